//! Compute (EC2-like): images, instance types, key pairs, instances, hosts.

use reqwest::Method;

#[cfg(feature = "native")]
use crate::Error;
use crate::{Client, Result};
use nuvem_api::ec2;

impl Client {
    pub async fn list_images(&self) -> Result<ec2::ImageList> {
        self.get(&["v1", "ec2", "images"]).await
    }

    pub async fn get_image(&self, id: &str) -> Result<ec2::Image> {
        self.get(&["v1", "ec2", "images", id]).await
    }

    /// Registers an image from files on the host (operator only).
    pub async fn import_image(&self, request: &ec2::ImportImageRequest) -> Result<ec2::Image> {
        self.post(&["v1", "ec2", "images"], request).await
    }

    pub async fn delete_image(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "ec2", "images", id]).await
    }

    pub async fn list_instance_types(&self) -> Result<ec2::InstanceTypeList> {
        self.get(&["v1", "ec2", "instance-types"]).await
    }

    /// Adds or changes an instance type (operator only).
    pub async fn put_instance_type(
        &self,
        name: &str,
        request: &ec2::PutInstanceTypeRequest,
    ) -> Result<ec2::InstanceType> {
        self.call(
            Method::PUT,
            &["v1", "ec2", "instance-types", name],
            None::<&()>,
            Some(request),
        )
        .await
    }

    /// Creates a key pair (`public_key: None`: Nuvem generates one and returns the private key
    /// once) or imports a public key.
    pub async fn create_key_pair(
        &self,
        name: &str,
        public_key: Option<&str>,
    ) -> Result<ec2::KeyPairCreated> {
        let body = ec2::CreateKeyPairRequest {
            name: name.into(),
            public_key: public_key.map(Into::into),
        };
        self.post(&["v1", "ec2", "key-pairs"], &body).await
    }

    pub async fn list_key_pairs(&self) -> Result<ec2::KeyPairList> {
        self.get(&["v1", "ec2", "key-pairs"]).await
    }

    pub async fn get_key_pair(&self, name: &str) -> Result<ec2::KeyPair> {
        self.get(&["v1", "ec2", "key-pairs", name]).await
    }

    pub async fn delete_key_pair(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "ec2", "key-pairs", name]).await
    }

    /// Launches instances; they start `pending`.
    pub async fn run_instances(
        &self,
        request: &ec2::RunInstancesRequest,
    ) -> Result<ec2::InstanceList> {
        self.post(&["v1", "ec2", "instances"], request).await
    }

    pub async fn list_instances(&self) -> Result<ec2::InstanceList> {
        self.get(&["v1", "ec2", "instances"]).await
    }

    pub async fn get_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.get(&["v1", "ec2", "instances", id]).await
    }

    pub async fn terminate_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.call(
            Method::DELETE,
            &["v1", "ec2", "instances", id],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn stop_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.call(
            Method::POST,
            &["v1", "ec2", "instances", id, "stop"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn start_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.call(
            Method::POST,
            &["v1", "ec2", "instances", id, "start"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn reboot_instance(&self, id: &str) -> Result<ec2::Instance> {
        self.call(
            Method::POST,
            &["v1", "ec2", "instances", id, "reboot"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn console_output(&self, id: &str) -> Result<ec2::ConsoleOutput> {
        self.get(&["v1", "ec2", "instances", id, "console"]).await
    }

    /// Polls until the instance reaches `state` (or a final state), at most `timeout`. Needs the
    /// `native` feature: its timer is tokio's, which has no clock in a browser.
    #[cfg(feature = "native")]
    pub async fn wait_for_state(
        &self,
        id: &str,
        state: ec2::InstanceState,
        timeout: std::time::Duration,
    ) -> Result<ec2::Instance> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let i = self.get_instance(id).await?;
            if i.state == state || i.state == ec2::InstanceState::Terminated {
                return Ok(i);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Config(format!(
                    "instance {id} is still {:?} after {} s (waiting for {:?})",
                    i.state,
                    timeout.as_secs(),
                    state
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }

    /// Hosts and their capacity (operator only).
    pub async fn list_hosts(&self) -> Result<ec2::HostList> {
        self.get(&["v1", "ec2", "hosts"]).await
    }

    /// Changes a host's vCPU ratio or reserved memory, live (operator only); `None` keeps it.
    pub async fn update_host(
        &self,
        host: &str,
        cpu_ratio: Option<f64>,
        reserved_memory_mib: Option<u64>,
    ) -> Result<ec2::Host> {
        let body = ec2::UpdateHostRequest {
            cpu_ratio,
            reserved_memory_mib,
        };
        self.call(
            Method::PATCH,
            &["v1", "ec2", "hosts", host],
            None::<&()>,
            Some(&body),
        )
        .await
    }
}
