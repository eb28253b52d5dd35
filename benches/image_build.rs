//! The image builder (bollard, `/build` with the context streamed as tar) against the `docker
//! build` CLI on the same small `FROM scratch` context, every step built anew (`nocache`).
//!
//! `cargo bench -j 1 -p slipway --bench image_build` builds the context N times each way,
//! interleaved so both see the same machine, and prints the medians and the ratio. The target
//! (issue 4) is bollard ≤ 1.05 × the CLI; the run fails when missed. Needs the Docker Engine,
//! the `docker` CLI and a static `/bin/busybox` (Debian's `busybox-static`).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use slipway::build::image::builder::{BuildRequest, build_image};
use slipway::build::image::context::BuildContext;
use slipway::build::image::docker::connect;

const RUNS: usize = 9;
const REPOSITORY: &str = "slipway-bench/image-build";

const DOCKERFILE: &str = "FROM scratch\nCOPY busybox /bin/busybox\nCOPY data /data\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox mkdir -p /out && /bin/busybox cp -r /data /out/ && echo done\"]\n";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn context_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("slipway-bench-image-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    assert!(
        Path::new("/bin/busybox").exists(),
        "the benchmark needs a static /bin/busybox: apt-get install busybox-static"
    );
    std::fs::copy("/bin/busybox", dir.join("busybox")).unwrap();
    std::fs::write(dir.join("Dockerfile"), DOCKERFILE).unwrap();
    for index in 0..50 {
        std::fs::write(
            dir.join("data").join(format!("file-{index}.txt")),
            format!("{index}\n").repeat(200),
        )
        .unwrap();
    }
    dir
}

/// Times one CLI build; the image id goes to `built`.
fn time_cli(context: &Path, built: &mut Vec<String>) -> Duration {
    let start = Instant::now();
    let output = Command::new("docker")
        .args(["build", "--no-cache", "--quiet", "-t"])
        .arg(format!("{REPOSITORY}:cli"))
        .arg(context)
        .output()
        .expect("the docker CLI is needed for this benchmark (docker.io)");
    let elapsed = start.elapsed();
    assert!(output.status.success(), "docker build failed: {output:?}");
    built.push(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    elapsed
}

/// Times one bollard build; the image id goes to `built`.
fn time_bollard(
    runtime: &tokio::runtime::Runtime,
    docker: &bollard::Docker,
    context: &Path,
    built: &mut Vec<String>,
) -> Duration {
    let request = BuildRequest {
        name: "bench".to_owned(),
        repository: REPOSITORY.to_owned(),
        tags: vec!["bollard".to_owned()],
        dockerfile: "Dockerfile".to_owned(),
        build_args: HashMap::new(),
        target: None,
        cache_from: Vec::new(),
        no_cache: true,
    };
    let start = Instant::now();
    let collected = BuildContext::collect(context, "Dockerfile").expect("the bench context");
    let id = runtime
        .block_on(build_image(
            docker,
            &request,
            collected,
            HashMap::new(),
            &|_| {},
        ))
        .expect("the bollard build");
    let elapsed = start.elapsed();
    built.push(id);
    elapsed
}

fn main() {
    let context = context_dir();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let host = std::env::var("DOCKER_HOST").ok();
    let docker = runtime
        .block_on(connect(host.as_deref(), Duration::ZERO, &|_| {}))
        .expect("the Docker Engine is needed for this benchmark");
    // Warm up both (page cache, the CLI's first start).
    let mut built = Vec::new();
    time_cli(&context, &mut built);
    time_bollard(&runtime, &docker, &context, &mut built);
    let mut cli = Vec::new();
    let mut bollard = Vec::new();
    for _ in 0..RUNS {
        cli.push(time_cli(&context, &mut built));
        bollard.push(time_bollard(&runtime, &docker, &context, &mut built));
    }
    // Every nocache build is a new image: remove them all (and their intermediate layers).
    let _ = Command::new("docker")
        .args(["rmi", "--force"])
        .args(&built)
        .output();
    let _ = std::fs::remove_dir_all(&context);
    let cli = median(cli);
    let bollard = median(bollard);
    let ratio = bollard.as_secs_f64() / cli.as_secs_f64();
    println!("FROM scratch context (busybox + 50 files, 3 steps), nocache, median of {RUNS} runs");
    println!("docker build CLI : {:>9.1} ms", cli.as_secs_f64() * 1000.0);
    println!(
        "bollard          : {:>9.1} ms",
        bollard.as_secs_f64() * 1000.0
    );
    println!("ratio            : {ratio:.3}x (target <= 1.05x)");
    assert!(ratio <= 1.05, "the bollard build missed its target");
}
