//! Test images for the Docker runner, built `FROM scratch` with Debian's static busybox.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// Tag of the busybox test image.
pub const BUSYBOX_IMAGE: &str = "slipway-testcluster-busybox:test";

/// Builds (once per process) an image with `/bin/busybox` and `/bin/sh`, and returns its tag.
///
/// # Panics
/// With a message saying what to install when busybox or the Docker Engine is missing.
pub fn busybox_image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let busybox = Path::new("/bin/busybox");
        let is_static = Command::new("file").arg(busybox).output().map(|o| String::from_utf8_lossy(&o.stdout).contains("statically linked"));
        assert!(
            busybox.exists() && is_static.unwrap_or(true),
            "the Docker runner tests need a static /bin/busybox: install Debian's busybox-static (apt-get install busybox-static)"
        );
        let context = std::env::temp_dir().join(format!("slipway-busybox-image-{}", std::process::id()));
        std::fs::create_dir_all(&context).unwrap();
        std::fs::copy(busybox, context.join("busybox")).unwrap();
        std::fs::write(context.join("Dockerfile"), "FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\n").unwrap();
        let output = Command::new("docker").args(["build", "-q", "-t", BUSYBOX_IMAGE]).arg(&context).output();
        let _ = std::fs::remove_dir_all(&context);
        match output {
            Ok(output) if output.status.success() => {}
            Ok(output) => panic!(
                "failed to build {BUSYBOX_IMAGE} with the Docker Engine (is dockerd running?): {}",
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(error) => panic!("failed to run the docker CLI to build {BUSYBOX_IMAGE} (install docker.io): {error}"),
        }
    });
    BUSYBOX_IMAGE
}
