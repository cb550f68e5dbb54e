//! How instances print: the rows of `instance list` and the lines of `instance describe`.

use nuvem_api::ec2::Instance;

use crate::output::{detail_text, list_text};

/// A running instance with two pinned vCPUs, and one shutting down that never got an address.
fn instances() -> [Instance; 2] {
    let running = serde_json::json!({
        "id": "i-1", "name": "web", "nrn": "nrn:nuvem:ec2::acc-1:instance/i-1",
        "state": "running", "state_reason": "booted", "image_id": "ami-1",
        "instance_type": "t3.nano", "vcpus": 2, "memory_mib": 512, "key_name": "mykey",
        "subnet_id": "subnet-1", "vpc_id": "vpc-1", "interface_id": "eni-1",
        "private_ip": "10.0.0.5", "security_group_ids": ["sg-1", "sg-2"], "host": "h1",
        "accelerator": "kvm", "pinned_cpus": [3, 5], "tags": {},
        "created_at": "2026-03-04T05:06:07Z", "launched_at": "2026-03-05T10:11:12Z",
    });
    let mut stopping = running.clone();
    for (field, value) in [
        ("id", serde_json::json!("i-2")),
        ("name", serde_json::json!("")),
        ("state", serde_json::json!("shutting-down")),
        ("state_reason", serde_json::json!("")),
        ("private_ip", serde_json::Value::Null),
        ("accelerator", serde_json::json!("tcg")),
    ] {
        stopping[field] = value;
    }
    [running, stopping].map(|i| serde_json::from_value(i).expect("an instance"))
}

#[test]
fn instance_list_has_one_row_per_instance_and_blanks_for_what_is_missing() {
    assert_eq!(
        list_text(&instances()),
        "\
┌────────────────────────────────────────────────────────────────────┐
│ ID    NAME   STATE           TYPE      PRIVATE IP   ACCEL   REASON │
╞════════════════════════════════════════════════════════════════════╡
│ i-1   web    running         t3.nano   10.0.0.5     kvm     booted │
│ i-2          shutting-down   t3.nano                tcg            │
└────────────────────────────────────────────────────────────────────┘"
    );
}

#[test]
fn instance_describe_shows_type_network_and_pinned_cores() {
    let [running, _] = instances();
    assert_eq!(
        detail_text(&running),
        "\
┌────────────────────────────────────────────────────┐
│ id                i-1                              │
│ name              web                              │
│ state             running booted                   │
│ type              t3.nano (2 vCPU, 512 MiB)        │
│ image             ami-1                            │
│ key pair          mykey                            │
│ network           10.0.0.5 in subnet-1 / vpc-1     │
│ security groups   sg-1, sg-2                       │
│ host              h1                               │
│ accelerator       kvm                              │
│ cpus              vCPU 0 → core 3, vCPU 1 → core 5 │
│ launched          2026-03-05 10:11:12              │
└────────────────────────────────────────────────────┘"
    );
}
