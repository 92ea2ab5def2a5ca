//! A container's root file system from an image, by copying its layers in
//! order (the "vfs" storage driver: every container gets its own full
//! copy). `storage` uses kernel overlay instead where the host allows it.

use std::path::Path;

use anyhow::Context;

use super::store::{ImageRecord, Store};

/// Builds `dest` (created, must not exist) from the image's layers.
pub fn build(store: &Store, image: &ImageRecord, dest: &Path) -> anyhow::Result<()> {
    std::fs::create_dir(dest).with_context(|| format!("create {}", dest.display()))?;
    for layer in &image.layers {
        let dir = store.layer_path(&layer.diff_id);
        anyhow::ensure!(
            dir.is_dir(),
            "layer {} of image {} is missing from the store; pull the image again",
            layer.diff_id,
            image.id
        );
        super::unpack::apply_layer(&dir, dest)
            .with_context(|| format!("copy layer {} into {}", layer.diff_id, dest.display()))?;
    }
    // `diff` compares the content of files whose inode changed after this
    // (see container::changes).
    let stamp = dest.with_file_name(crate::container::changes::STAMP_FILE);
    std::fs::write(&stamp, b"").with_context(|| format!("create {}", stamp.display()))?;
    Ok(())
}
