//! Images: references, digests, the registry client, the content store and
//! layer unpacking (OCI image and distribution specs).

pub mod digest;
pub mod reference;
pub mod registry;
pub mod store;
