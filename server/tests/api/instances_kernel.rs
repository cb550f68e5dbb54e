//! Instances on the real stack: libvirt + QEMU (TCG here, KVM where it works), the nuvem-tiny
//! image built by `infra/images/build-tiny.sh`, real bridges and iptables. SSH in with the key pair,
//! user-data ran, security groups hold between two instances, stop/start keeps the disk,
//! terminate removes everything; capacity and pinning; a failure at every launch step unwinds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nuvem_api::ErrorCode;
use nuvem_api::ec2::{Instance, InstanceState, RunInstancesRequest};
use nuvem_api::vpc::{AuthorizeRuleRequest, Direction, Protocol};
use nuvem_sdk::Client;
use nuvem_server::compute::launch::LaunchSaga;
use nuvem_server::saga::SagaKind;
use nuvem_server::saga::testing::{assert_settled, every_failure};

use crate::common::{Cloud, in_ci, real_network_available};

/// The built images, or `None` (skip, outside CI) when they are not there.
fn images_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var("NUVEM_TEST_IMAGES_DIR")
        .ok()
        .map(PathBuf::from);
    match dir.filter(|d| d.join("nuvem-tiny").join("image.json").exists()) {
        Some(d) => Some(d),
        None if in_ci() => panic!(
            "{test}: NUVEM_TEST_IMAGES_DIR must hold nuvem-tiny in CI (infra/test.sh builds it)"
        ),
        None => {
            eprintln!(
                "SKIPPED {test}: no built nuvem-tiny image (set NUVEM_TEST_IMAGES_DIR; infra/test.sh builds it)"
            );
            None
        }
    }
}

fn libvirt_available(test: &str) -> bool {
    let ok = Command::new("virsh")
        .args(["-c", "qemu:///system", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !in_ci(),
            "{test}: libvirtd must run in CI (infra/daemons.sh)"
        );
        eprintln!("SKIPPED {test}: libvirtd is not answering (infra/daemons.sh start)");
    }
    ok
}

async fn tiny_image(c: &Client) -> String {
    c.list_images()
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|i| i.name == "nuvem-tiny")
        .expect("nuvem-tiny registered")
        .id
}

fn launch_req(
    image: &str,
    itype: &str,
    key: Option<&str>,
    sgs: Option<Vec<String>>,
    user_data: Option<&str>,
) -> RunInstancesRequest {
    RunInstancesRequest {
        image_id: image.into(),
        instance_type: itype.into(),
        key_name: key.map(Into::into),
        subnet_id: None,
        security_group_ids: sgs,
        user_data: user_data.map(Into::into),
        count: None,
        name: None,
        tags: None,
        dedicated: None,
    }
}

/// Runs a command in the guest over SSH with the key; (exit code, stdout).
fn ssh(key: &Path, ip: &str, command: &str) -> (i32, String) {
    let out = Command::new("ssh")
        .args(["-i"])
        .arg(key)
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg(format!("root@{ip}"))
        .arg(command)
        .output()
        .expect("ssh");
    let code = out.status.code().unwrap_or(-1);
    if code != 0 {
        eprintln!(
            "ssh {ip} {command:?} exited {code}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    (code, String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Waits until the guest answers SSH (bounded).
fn wait_ssh(key: &Path, ip: &str) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if ssh(key, ip, "true").0 == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{ip} never answered SSH");
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The ids (real, effective, saved, file system) in a `/proc/<pid>/status` line (`Uid:`, `Gid:`).
fn proc_ids(pid: &str, key: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
        .split_whitespace()
        .skip(1)
        .map(|id| id.parse().unwrap())
        .collect()
}

/// QEMU of a running instance runs as libvirt's unprivileged user, never as root, and its files
/// are root's except while it runs.
fn assert_unprivileged_guest(cloud: &Cloud, id: &str) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let domain = cloud.server().nuvem.compute.domain_name(id);
    let pid = std::fs::read_to_string(format!("/run/libvirt/qemu/{domain}.pid"))
        .expect("libvirt writes the pid file of a running domain");
    let pid = pid.trim();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("qemu-system"),
        "{pid} is not QEMU"
    );
    let (uids, gids) = (proc_ids(pid, "Uid:"), proc_ids(pid, "Gid:"));
    assert!(
        uids.iter().chain(&gids).all(|&i| i != 0),
        "QEMU of {id} runs as uid {uids:?} gid {gids:?}"
    );
    let user = nuvem_server::drivers::hypervisor::qemu_user().expect("libvirt-qemu");
    assert_eq!((uids[1], gids[1]), (user.uid, user.gid));
    // The data directory: root's, traversable by QEMU's group only; the instance's folder too.
    let data = std::fs::metadata(cloud.data_dir()).unwrap();
    assert_eq!(
        (data.mode() & 0o7777, data.uid(), data.gid()),
        (0o710, 0, user.gid)
    );
    let dir = cloud.data_dir().join("compute/instances").join(id);
    let meta = std::fs::metadata(&dir).unwrap();
    assert_eq!((meta.mode() & 0o7777, meta.uid()), (0o710, 0));
    // The disk is 0600, lent to QEMU's user while the guest runs.
    let disk = std::fs::metadata(dir.join("disk.qcow2")).unwrap();
    assert_eq!(disk.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        disk.uid(),
        user.uid,
        "libvirt relabels the disk to QEMU's user"
    );
    let seed = std::fs::metadata(dir.join("seed.iso")).unwrap();
    assert_eq!((seed.mode() & 0o777, seed.uid()), (0o600, user.uid), "seed");
    // libvirt opens the console log itself and hands QEMU the descriptor: it stays root's.
    let log = std::fs::metadata(dir.join("console.log")).unwrap();
    assert_eq!((log.mode() & 0o077, log.uid()), (0, 0), "console log");
    // Secrets stay root's alone.
    for f in ["nuvem.db", "keys/jwt.key", "initial-admin-password"] {
        let m = std::fs::metadata(cloud.data_dir().join(f)).unwrap();
        assert_eq!((m.mode() & 0o777, m.uid()), (0o600, 0), "{f}");
    }
}

async fn running(c: &Client, id: &str) -> Instance {
    let i = c
        .wait_for_state(id, InstanceState::Running, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(i.state, InstanceState::Running, "{id}: {}", i.state_reason);
    i
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root, libvirt/QEMU and the nuvem-tiny image: run infra/test.sh"]
async fn instances_boot_answer_ssh_and_obey_security_groups() {
    let test = "instances_boot_answer_ssh_and_obey_security_groups";
    if !real_network_available(test) || !libvirt_available(test) {
        return;
    }
    let Some(images) = images_dir(test) else {
        return;
    };
    let cloud = Cloud::start_with_vms(&images, 4.0).await;
    let root = cloud.account("vmlab").await;
    let image = tiny_image(&root).await;
    let keys = tempfile::tempdir().unwrap();
    let created = root.create_key_pair("lab", None).await.unwrap();
    assert_eq!(created.key_pair.key_type, "ssh-ed25519");
    let key = keys.path().join("lab.pem");
    std::fs::write(&key, created.private_key.unwrap()).unwrap();
    Command::new("chmod")
        .args(["600"])
        .arg(&key)
        .status()
        .unwrap();

    let vpc = root.list_vpcs().await.unwrap().items.remove(0);
    let web = root
        .create_security_group(&vpc.id, "web", None)
        .await
        .unwrap();
    let rule = AuthorizeRuleRequest {
        direction: Direction::Ingress,
        protocol: Protocol::Tcp,
        from_port: Some(8080),
        to_port: None,
        cidr: Some("0.0.0.0/0".into()),
        source_group_id: None,
        description: None,
    };
    root.authorize_rule(&web.id, &rule).await.unwrap();
    let user_data = "#!/bin/sh\nmkdir -p /www && echo web-ok > /www/index.html\nbusybox httpd -p 8080 -h /www\nbusybox httpd -p 9090 -h /www\necho user-data-ran > /data/marker\n";
    let a = root
        .run_instances(&launch_req(
            &image,
            "t3.nano",
            Some("lab"),
            Some(vec![web.id.clone()]),
            Some(user_data),
        ))
        .await
        .unwrap()
        .items
        .remove(0);
    let b = root
        .run_instances(&launch_req(&image, "t3.nano", Some("lab"), None, None))
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(a.state, InstanceState::Pending);
    let a = running(&root, &a.id).await;
    let b = running(&root, &b.id).await;
    assert!(
        matches!(a.accelerator.as_str(), "kvm" | "tcg"),
        "accelerator {}",
        a.accelerator
    );
    let (a_ip, b_ip) = (a.private_ip.clone().unwrap(), b.private_ip.clone().unwrap());
    assert_unprivileged_guest(&cloud, &a.id);
    // For security groups the host is outside: the web group (8080 only) keeps it off SSH
    // until a rule lets its address — the subnet's gateway — in. (b is in the default group,
    // which has that rule.)
    let trace_ssh = || async {
        root.trace(&nuvem_api::vpc::TraceRequest {
            from: "host".into(),
            to: a_ip.clone(),
            protocol: Protocol::Tcp,
            port: Some(22),
        })
        .await
        .unwrap()
        .verdict
    };
    assert_eq!(trace_ssh().await, nuvem_api::vpc::Verdict::Deny);
    let gateway = root.list_subnets(None).await.unwrap().items[0]
        .gateway
        .clone();
    root.authorize_rule(
        &web.id,
        &AuthorizeRuleRequest {
            from_port: Some(22),
            cidr: Some(format!("{gateway}/32")),
            ..rule.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(trace_ssh().await, nuvem_api::vpc::Verdict::Allow);
    wait_ssh(&key, &a_ip);
    wait_ssh(&key, &b_ip);

    // SSH with the key works; the user-data script ran.
    let (code, hostname) = ssh(&key, &a_ip, "hostname");
    assert_eq!((code, hostname.as_str()), (0, a.name.as_str()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while ssh(&key, &a_ip, "cat /data/marker").1 != "user-data-ran" {
        assert!(Instant::now() < deadline, "user-data did not run");
        std::thread::sleep(Duration::from_secs(1));
    }
    let console = root.console_output(&a.id).await.unwrap().output;
    assert!(console.contains("nuvem-tiny: ssh ready"), "{console}");

    // From the second instance: the allowed port answers, the other does not. (busybox's
    // static wget crashes, so nc speaks HTTP.)
    let get = |port: u16| {
        format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {a_ip} {port} | tail -n 1")
    };
    assert_eq!(ssh(&key, &b_ip, &get(8080)), (0, "web-ok".to_owned()));
    assert_eq!(
        ssh(&key, &b_ip, &get(9090)).1,
        "",
        "9090 is not allowed by the web group"
    );

    // Stop and start keep the disk.
    root.stop_instance(&a.id).await.unwrap();
    let stopped = root
        .wait_for_state(&a.id, InstanceState::Stopped, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(stopped.state, InstanceState::Stopped);
    {
        use std::os::unix::fs::MetadataExt;
        let disk = cloud
            .data_dir()
            .join("compute/instances")
            .join(&a.id)
            .join("disk.qcow2");
        assert_eq!(
            std::fs::metadata(&disk).unwrap().uid(),
            0,
            "a stopped guest's disk is root's again"
        );
    }
    root.start_instance(&a.id).await.unwrap();
    running(&root, &a.id).await;
    wait_ssh(&key, &a_ip);
    assert_eq!(ssh(&key, &a_ip, "cat /data/marker").1, "user-data-ran");

    // Terminate removes domain, disk, seed, tap and rules.
    let cell = cloud.server().nuvem.vpc.naming().cell().to_owned();
    for i in [&a, &b] {
        root.terminate_instance(&i.id).await.unwrap();
    }
    for i in [&a, &b] {
        let t = root
            .wait_for_state(&i.id, InstanceState::Terminated, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(t.state, InstanceState::Terminated);
        let domain = cloud.server().nuvem.compute.domain_name(&i.id);
        let list = String::from_utf8_lossy(
            &Command::new("virsh")
                .args(["-c", "qemu:///system", "list", "--all", "--name"])
                .output()
                .unwrap()
                .stdout,
        )
        .into_owned();
        assert!(!list.contains(&domain), "domain {domain} left");
        assert!(
            !cloud
                .data_dir()
                .join("compute/instances")
                .join(&i.id)
                .exists(),
            "files left"
        );
    }
    assert!(
        root.list_network_interfaces(None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let links = String::from_utf8_lossy(
        &Command::new("ip")
            .args(["-o", "link"])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(
        !links.contains(&format!("nv{cell}t")),
        "a tap was left: {links}"
    );
    let rules = String::from_utf8_lossy(
        &Command::new("iptables")
            .args(["-w", "-S"])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(
        !rules.contains(&format!("NV{cell}-I-")),
        "interface chains were left"
    );
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root, libvirt/QEMU and the nuvem-tiny image: run infra/test.sh"]
async fn capacity_pinning_and_unwinding_on_libvirt() {
    let test = "capacity_pinning_and_unwinding_on_libvirt";
    if !real_network_available(test) || !libvirt_available(test) {
        return;
    }
    let Some(images) = images_dir(test) else {
        return;
    };
    // One vCPU per core, as the course recommends.
    let cloud = Cloud::start_with_vms(&images, 1.0).await;
    let root = cloud.account("capacity").await;
    let image = tiny_image(&root).await;
    let host = cloud.admin.list_hosts().await.unwrap().items.remove(0);
    assert_eq!(host.vcpus_capacity, host.cores);

    // A failure at every step of a launch leaves nothing behind.
    let sagas = &cloud.server().nuvem.sagas;
    for failure in every_failure::<LaunchSaga>() {
        let step = format!(
            "{} step {}",
            if failure.after_run { "after" } else { "before" },
            failure.step
        );
        sagas.inject_failure(Some(failure));
        let i = root
            .run_instances(&launch_req(&image, "t3.nano", None, None, None))
            .await
            .unwrap()
            .items
            .remove(0);
        let t = root
            .wait_for_state(&i.id, InstanceState::Terminated, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(t.state, InstanceState::Terminated, "{step}");
        assert!(
            t.state_reason.contains(&format!("injected failure {step}")),
            "{}",
            t.state_reason
        );
        let domains = cloud
            .server()
            .nuvem
            .compute
            .hypervisor()
            .list(&cloud.server().nuvem.compute.domain_name(""))
            .unwrap();
        assert!(domains.is_empty(), "{step}: domains left {domains:?}");
        assert!(
            !cloud
                .data_dir()
                .join("compute/instances")
                .join(&i.id)
                .exists(),
            "{step}: files left"
        );
        assert!(
            root.list_network_interfaces(None)
                .await
                .unwrap()
                .items
                .is_empty(),
            "{step}: interface left"
        );
        assert_eq!(
            cloud.admin.list_hosts().await.unwrap().items[0].vcpus_used,
            0,
            "{step}: capacity not released"
        );
    }
    sagas.inject_failure(None);
    assert_settled(sagas, LaunchSaga::KIND).await.unwrap();

    // Dedicated vCPUs on distinct cores, as libvirt reports them; then the host is full.
    let mut req = launch_req(&image, "t3.nano", None, None, None);
    req.count = Some(host.cores);
    req.dedicated = Some(true);
    let launched = root.run_instances(&req).await.unwrap().items;
    let mut cores = Vec::new();
    for i in &launched {
        let i = running(&root, &i.id).await;
        let reported = cloud
            .server()
            .nuvem
            .compute
            .pins_reported(&i.id)
            .await
            .unwrap();
        assert_eq!(reported, i.pinned_cpus, "libvirt pins what Nuvem chose");
        cores.extend(reported);
    }
    let distinct: std::collections::BTreeSet<_> = cores.iter().collect();
    assert_eq!(
        distinct.len(),
        cores.len(),
        "pinned cores must be distinct: {cores:?}"
    );
    let err = root
        .run_instances(&launch_req(&image, "t3.nano", None, None, None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InsufficientCapacity), "{err}");
    assert!(err.to_string().contains("overcommit ratio 1"), "{err}");
    for i in &launched {
        root.terminate_instance(&i.id).await.unwrap();
        root.wait_for_state(&i.id, InstanceState::Terminated, Duration::from_secs(60))
            .await
            .unwrap();
    }
    assert_eq!(
        cloud.admin.list_hosts().await.unwrap().items[0].vcpus_used,
        0
    );
    cloud.stop().await;
}
