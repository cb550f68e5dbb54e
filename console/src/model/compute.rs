//! What the Instances and Home pages work out: the actions an instance's state allows, the
//! account's instances by state, a host's capacity as figures to compare, the host form read, and
//! a private key as a file to download.

use nuvem_api::ec2::{Host, Image, Instance, InstanceState};

/// What a student can do to an instance from its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceAction {
    Stop,
    Start,
    Reboot,
    Terminate,
}

impl InstanceAction {
    /// The button's `data-action` (the browser test finds it so) and the end of its i18n key.
    pub fn name(self) -> &'static str {
        match self {
            InstanceAction::Stop => "stop",
            InstanceAction::Start => "start",
            InstanceAction::Reboot => "reboot",
            InstanceAction::Terminate => "terminate",
        }
    }
}

/// The actions `state` allows, as the API accepts them: no Start on a running instance, no Stop
/// on a stopped one, nothing once it is going away.
pub fn actions(state: InstanceState) -> &'static [InstanceAction] {
    use InstanceAction::*;
    match state {
        InstanceState::Running => &[Stop, Reboot, Terminate],
        InstanceState::Stopped => &[Start, Terminate],
        InstanceState::Pending | InstanceState::Stopping => &[Terminate],
        InstanceState::ShuttingDown | InstanceState::Terminated => &[],
    }
}

/// The image's name for its id; the id itself while the images are not known (or for an image
/// since deleted).
pub fn image_name(images: &[Image], id: &str) -> String {
    images
        .iter()
        .find(|i| i.id == id)
        .map_or_else(|| id.to_owned(), |i| i.name.clone())
}

/// How many instances are in each state, in the lifecycle's order; states without any are left
/// out.
pub fn count_by_state(instances: &[Instance]) -> Vec<(InstanceState, usize)> {
    use InstanceState::*;
    [
        Pending,
        Running,
        Stopping,
        Stopped,
        ShuttingDown,
        Terminated,
    ]
    .into_iter()
    .map(|s| (s, instances.iter().filter(|i| i.state == s).count()))
    .filter(|(_, n)| *n > 0)
    .collect()
}

/// The memory guests may have on a host: all of it but what is kept for the host itself.
pub fn guest_memory_mib(h: &Host) -> u64 {
    h.memory_mib.saturating_sub(h.reserved_memory_mib)
}

/// A field of the host form is not a number.
#[derive(Debug, PartialEq, Eq)]
pub struct NotANumber;

/// The ratio field: empty keeps the host's; a decimal comma (pt-BR's `1,5`) is a decimal mark.
/// Out of range is the server's to refuse, with its message naming the range.
pub fn ratio_field(text: &str) -> Result<Option<f64>, NotANumber> {
    let t = text.trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<f64>()
        .ok()
        .filter(|r| r.is_finite())
        .map(Some)
        .ok_or(NotANumber)
}

/// The reserved-memory field, in whole MiB: empty keeps the host's.
pub fn mib_field(text: &str) -> Result<Option<u64>, NotANumber> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<u64>().map(Some).map_err(|_| NotANumber)
}

/// `text` as a `data:` URL, for a link that downloads it (`<a download href=…>`): nothing is
/// stored on the server or in the browser, and the page forgets it when left.
pub fn data_url(mime: &str, text: &str) -> String {
    let mut url = format!("data:{mime};charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// The file a generated private key downloads as: `ssh -i lab.pem …`.
pub fn key_file_name(key_name: &str) -> String {
    format!("{key_name}.pem")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_follow_the_state() {
        use InstanceAction::*;
        assert_eq!(actions(InstanceState::Running), &[Stop, Reboot, Terminate]);
        assert!(!actions(InstanceState::Running).contains(&Start));
        assert_eq!(actions(InstanceState::Stopped), &[Start, Terminate]);
        assert_eq!(actions(InstanceState::Pending), &[Terminate]);
        assert!(actions(InstanceState::Terminated).is_empty());
        assert_eq!(Reboot.name(), "reboot");
    }

    fn instance(state: &str, image: &str) -> Instance {
        serde_json::from_value(serde_json::json!({
            "id": "i-1", "name": "web", "nrn": "nrn:nuvem:ec2:1:instance/i-1", "state": state,
            "state_reason": "", "image_id": image, "instance_type": "t3.nano", "vcpus": 1,
            "memory_mib": 512, "key_name": null, "subnet_id": "subnet-1", "vpc_id": "vpc-1",
            "interface_id": null, "private_ip": null, "security_group_ids": [], "host": "host-1",
            "accelerator": "tcg", "pinned_cpus": [], "tags": {},
            "created_at": "2026-11-29T18:05:00Z", "launched_at": null
        }))
        .unwrap()
    }

    #[test]
    fn instances_by_state_in_lifecycle_order() {
        let list = [
            instance("stopped", "ami-1"),
            instance("running", "ami-1"),
            instance("running", "ami-1"),
        ];
        assert_eq!(
            count_by_state(&list),
            vec![(InstanceState::Running, 2), (InstanceState::Stopped, 1)]
        );
        assert!(count_by_state(&[]).is_empty());
    }

    #[test]
    fn an_image_by_its_name() {
        let image: Image = serde_json::from_value(serde_json::json!({
            "id": "ami-1", "name": "nuvem-tiny", "nrn": "n", "format": "kernel-initrd",
            "architecture": "x86_64", "min_disk_mib": 0, "description": "", "public": true,
            "owner_account_id": null, "created_at": "2026-11-29T18:05:00Z"
        }))
        .unwrap();
        assert_eq!(
            image_name(std::slice::from_ref(&image), "ami-1"),
            "nuvem-tiny"
        );
        // Unknown (deleted, or not loaded yet): the id.
        assert_eq!(image_name(&[image], "ami-2"), "ami-2");
        assert_eq!(instance("running", "ami-2").image_id, "ami-2");
    }

    #[test]
    fn guests_get_the_memory_the_host_does_not_keep() {
        let host: Host = serde_json::from_value(serde_json::json!({
            "id": "host-1", "name": "host-1", "uri": "qemu:///system", "cores": 2,
            "memory_mib": 4096, "cpu_ratio": 4.0, "vcpus_used": 1, "vcpus_capacity": 8,
            "memory_used_mib": 512, "pinned_cores": [], "accelerator": "tcg",
            "reserved_memory_mib": 1024, "vcpus_free": 7, "memory_free_mib": 2560
        }))
        .unwrap();
        assert_eq!(guest_memory_mib(&host), 3072);
        let greedy = Host {
            reserved_memory_mib: 8192,
            ..host
        };
        assert_eq!(guest_memory_mib(&greedy), 0);
    }

    #[test]
    fn the_host_form_reads_both_decimal_marks() {
        assert_eq!(ratio_field(" 1,5 "), Ok(Some(1.5)));
        assert_eq!(ratio_field("4"), Ok(Some(4.0)));
        assert_eq!(ratio_field(""), Ok(None));
        assert_eq!(ratio_field("four"), Err(NotANumber));
        assert_eq!(ratio_field("NaN"), Err(NotANumber));
        // Out of range is the server's to refuse.
        assert_eq!(ratio_field("99"), Ok(Some(99.0)));
        assert_eq!(mib_field("2048"), Ok(Some(2048)));
        assert_eq!(mib_field(" "), Ok(None));
        assert_eq!(mib_field("1.5"), Err(NotANumber));
        assert_eq!(mib_field("-1"), Err(NotANumber));
    }

    #[test]
    fn a_private_key_as_a_download() {
        let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl+/=\n";
        let url = data_url("application/x-pem-file", pem);
        assert!(url.starts_with("data:application/x-pem-file;charset=utf-8,-----BEGIN%20OPENSSH"));
        assert!(url.contains("%0Ab3Bl%2B%2F%3D%0A"), "{url}");
        let payload = url.split_once(',').map(|(_, p)| p).unwrap_or_default();
        assert!(!payload.contains(['\n', ' ', '+', '/', '=', '#']));
        assert_eq!(key_file_name("lab"), "lab.pem");
    }
}
