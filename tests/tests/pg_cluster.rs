//! The throwaway cluster leaves nothing behind: not on drop, not when its process dies.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use salesdesk_testkit::pg::PgCluster;

fn postmaster_pid(data_dir_parent: &Path) -> u32 {
    let text = std::fs::read_to_string(data_dir_parent.join("data/postmaster.pid")).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

fn wait_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn drop_stops_the_server_and_removes_its_files() {
    let cluster = PgCluster::start().unwrap();
    let dir = cluster.socket_dir().to_owned();
    let pid = postmaster_pid(&dir);
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(cluster);
    assert!(wait_gone(pid), "postgres {pid} still running after drop");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

/// Not a test on its own: the body of the child process in the test below.
#[test]
#[ignore = "run by cluster_dies_with_a_killed_test_process in a child process"]
fn child_starts_a_cluster_and_aborts() {
    if std::env::var_os("SALESDESK_PG_CHILD").is_none() {
        return;
    }
    let cluster = PgCluster::start().unwrap();
    println!("POSTMASTER_PID={}", postmaster_pid(cluster.socket_dir()));
    // No unwinding, no destructors: only the kernel's parent-death signal can clean up.
    std::process::abort();
}

#[test]
fn cluster_dies_with_a_killed_test_process() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_starts_a_cluster_and_aborts",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SALESDESK_PG_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let pid: u32 = stdout
        .lines()
        .find_map(|l| l.split_once("POSTMASTER_PID=").map(|(_, pid)| pid))
        .unwrap_or_else(|| {
            panic!(
                "child did not start a cluster: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .trim()
        .parse()
        .unwrap();
    assert!(!out.status.success(), "the child was meant to abort");
    assert!(
        wait_gone(pid),
        "postgres {pid} outlived its aborted test process"
    );
}
