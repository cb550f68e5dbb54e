//! Key pairs: created (the private key is shown once) or imported, per account.

use chrono::Utc;
use nuvem_api::ec2 as api;
use nuvem_api::nrn::nrn;
use nuvem_api::validate;

use super::{Compute, cloud_init, new_id};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::compute::KeyPairRow;

impl Compute {
    pub(super) fn key_view(k: &KeyPairRow) -> api::KeyPair {
        api::KeyPair {
            id: k.id.clone(),
            name: k.name.clone(),
            nrn: nrn("ec2", &k.account_id, "key-pair", &k.name),
            key_type: k.key_type.clone(),
            fingerprint: k.fingerprint.clone(),
            public_key: k.public_key.clone(),
            created_at: k.created_at,
        }
    }

    pub async fn key_pair_create(
        &self,
        p: &Principal,
        req: api::CreateKeyPairRequest,
    ) -> Result<api::KeyPairCreated> {
        let action = if req.public_key.is_some() {
            "ec2:ImportKeyPair"
        } else {
            "ec2:CreateKeyPair"
        };
        self.iam
            .authorize(p, action, &Self::res(p, "key-pair", &req.name))
            .await?;
        validate::iam_name("key pair", &req.name, 255).map_err(Error::InvalidRequest)?;
        if self
            .store
            .key_pair_get_by_name(&p.account.id, &req.name)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists(format!(
                "a key pair named '{}' already exists",
                req.name
            )));
        }
        let scratch = self.data_dir.join("tmp");
        let (public, private) = match req.public_key {
            Some(k) => {
                if k.len() > 16_384 {
                    return Err(Error::invalid(
                        "public_key must be one line of an OpenSSH public key",
                    ));
                }
                (
                    cloud_init::parse_public_key(&k)
                        .map_err(Error::InvalidRequest)?
                        .1,
                    None,
                )
            }
            None => {
                let comment = format!("{}@nuvem", req.name);
                let s = scratch.clone();
                let (private, public) = tokio::task::spawn_blocking(move || {
                    crate::drivers::keys::generate_ed25519(&s, &comment)
                })
                .await
                .map_err(Error::internal)?
                .map_err(Error::internal)?;
                (public, Some(private))
            }
        };
        let pk = public.clone();
        let (key_type, fingerprint) = tokio::task::spawn_blocking(move || {
            crate::drivers::keys::fingerprint(&scratch, &pk)
        })
        .await
        .map_err(Error::internal)?
        .map_err(|_| {
            Error::invalid(
                "public_key is not an OpenSSH public key (like 'ssh-ed25519 AAAA... comment')",
            )
        })?;
        let row = self
            .store
            .key_pair_create(KeyPairRow {
                id: new_id("key"),
                account_id: p.account.id.clone(),
                name: req.name,
                key_type,
                fingerprint,
                public_key: public,
                created_at: Utc::now(),
            })
            .await?;
        Ok(api::KeyPairCreated {
            key_pair: Self::key_view(&row),
            private_key: private,
        })
    }

    pub async fn key_pair_list(&self, p: &Principal) -> Result<api::KeyPairList> {
        self.iam
            .authorize(p, "ec2:DescribeKeyPairs", &Self::res(p, "key-pair", "*"))
            .await?;
        Ok(api::KeyPairList {
            items: self
                .store
                .key_pair_list(&p.account.id)
                .await?
                .iter()
                .map(Self::key_view)
                .collect(),
        })
    }

    pub(super) async fn key_lookup(&self, p: &Principal, name: &str) -> Result<KeyPairRow> {
        self.store
            .key_pair_get_by_name(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("key pair", name))
    }

    pub async fn key_pair_get(&self, p: &Principal, name: &str) -> Result<api::KeyPair> {
        self.iam
            .authorize(p, "ec2:DescribeKeyPairs", &Self::res(p, "key-pair", name))
            .await?;
        Ok(Self::key_view(&self.key_lookup(p, name).await?))
    }

    pub async fn key_pair_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.iam
            .authorize(p, "ec2:DeleteKeyPair", &Self::res(p, "key-pair", name))
            .await?;
        let k = self.key_lookup(p, name).await?;
        self.store.key_pair_delete(&k.id).await
    }
}
