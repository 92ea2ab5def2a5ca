//! Images: references, digests, the registry client, the content store and
//! layer unpacking (OCI image and distribution specs).

pub mod archive;
pub mod auth;
pub mod digest;
pub mod pull;
pub mod push;
pub mod reference;
pub mod registry;
pub mod rootfs;
pub mod store;
pub mod unpack;
