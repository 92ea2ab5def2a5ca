pub mod idmap;
