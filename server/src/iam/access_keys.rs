//! Access keys of users: created with a secret shown once, enabled or disabled, deleted.

use chrono::Utc;
use nuvem_api::iam as api;

use super::{Iam, Principal, crypto};
use crate::error::{Error, Result};
use crate::store::{AccessKeyRow, UserRow};

impl Iam {
    pub async fn access_key_create(
        &self,
        p: &Principal,
        user: &str,
    ) -> Result<api::AccessKeyCreated> {
        self.authorize(p, "iam:CreateAccessKey", &Self::named_nrn(p, "user", user)?)
            .await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:CreateAccessKey")?;
        let existing = self.store.access_key_list_for_user(&u.id).await?;
        if existing.len() >= api::MAX_ACCESS_KEYS_PER_USER {
            return Err(Error::LimitExceeded(format!(
                "user '{user}' already has {} access keys, the most a user may have; delete one first",
                existing.len()
            )));
        }
        let secret = crypto::new_secret_access_key();
        let row = AccessKeyRow {
            id: crypto::new_access_key_id(),
            account_id: p.account.id.clone(),
            user_id: u.id.clone(),
            secret_ciphertext: self.keys.encrypt_secret(&secret).map_err(Error::internal)?,
            status: api::AccessKeyStatus::Active.into(),
            created_at: Utc::now(),
            last_used_at: None,
        };
        let row = self.store.access_key_create(row).await?;
        Ok(api::AccessKeyCreated {
            access_key_id: row.id,
            secret_access_key: secret,
            user: u.name,
            status: api::AccessKeyStatus::Active,
            created_at: row.created_at,
        })
    }

    pub async fn access_key_list(&self, p: &Principal, user: &str) -> Result<api::AccessKeyList> {
        self.authorize(p, "iam:ListAccessKeys", &Self::named_nrn(p, "user", user)?)
            .await?;
        let u = self.user_lookup(p, user).await?;
        let rows = self.store.access_key_list_for_user(&u.id).await?;
        Ok(api::AccessKeyList {
            items: rows.iter().map(|r| access_key_view(r, &u.name)).collect(),
        })
    }

    async fn access_key_lookup(&self, user: &UserRow, id: &str) -> Result<AccessKeyRow> {
        self.store
            .access_key_get(id)
            .await?
            .filter(|k| k.user_id == user.id)
            .ok_or_else(|| {
                Error::NotFound(format!("user '{}' has no access key '{id}'", user.name))
            })
    }

    pub async fn access_key_update(
        &self,
        p: &Principal,
        user: &str,
        id: &str,
        req: api::UpdateAccessKeyRequest,
    ) -> Result<api::AccessKey> {
        self.authorize(p, "iam:UpdateAccessKey", &Self::named_nrn(p, "user", user)?)
            .await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:UpdateAccessKey")?;
        let key = self.access_key_lookup(&u, id).await?;
        let row = self
            .store
            .access_key_set_status(&key.id, req.status)
            .await?;
        Ok(access_key_view(&row, &u.name))
    }

    pub async fn access_key_delete(&self, p: &Principal, user: &str, id: &str) -> Result<()> {
        self.authorize(p, "iam:DeleteAccessKey", &Self::named_nrn(p, "user", user)?)
            .await?;
        let u = self.user_lookup(p, user).await?;
        Self::refuse_root_target(p, &u, "iam:DeleteAccessKey")?;
        let key = self.access_key_lookup(&u, id).await?;
        self.store.access_key_delete(&key.id).await
    }
}

fn access_key_view(row: &AccessKeyRow, user: &str) -> api::AccessKey {
    api::AccessKey {
        access_key_id: row.id.clone(),
        user: user.to_owned(),
        status: row.status.get(),
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    }
}

/// What the S3 endpoint verifies a SigV4 signature with.
#[derive(Debug)]
pub enum SigningKey {
    /// No access key has this id.
    Unknown,
    /// The key exists but is disabled: refused at once, whatever the signature.
    Inactive,
    Active(String),
}

/// What the S3 path needs of an access key, cached (`crate::cache`): its state, the secret to
/// verify signatures with, and its principal.
#[derive(Debug)]
pub(super) struct KeyEntry {
    /// `None`: the key is disabled.
    active: Option<(String, Principal)>,
    /// When it was last marked used (the mark is written at most once a minute).
    last_used: std::sync::Mutex<Option<chrono::DateTime<Utc>>>,
}

impl Iam {
    /// An access key's cached entry; `None`: no key has this id (not cached, so a key made
    /// later is found).
    async fn key_entry(&self, id: &str) -> Result<Option<std::sync::Arc<KeyEntry>>> {
        let generation = self.store.iam_generation();
        if let Some(entry) = self.caches.keys.get(id, generation) {
            return Ok(Some(entry));
        }
        let Some(key) = self.store.access_key_get(id).await? else {
            return Ok(None);
        };
        let active = if key.status == api::AccessKeyStatus::Active {
            let secret = self
                .keys
                .decrypt_secret(&key.secret_ciphertext)
                .map_err(Error::internal)?;
            let principal = self
                .principal(&key.user_id, &key.account_id, Some(&key))
                .await?;
            Some((secret, principal))
        } else {
            None
        };
        let entry = std::sync::Arc::new(KeyEntry {
            active,
            last_used: std::sync::Mutex::new(key.last_used_at),
        });
        self.caches.keys.put(id, generation, entry.clone());
        Ok(Some(entry))
    }

    /// The decrypted secret of an access key, for verifying a request signed with it (the S3
    /// endpoint signs nothing itself: it recomputes the caller's signature).
    pub async fn access_key_signing_secret(&self, id: &str) -> Result<SigningKey> {
        Ok(match self.key_entry(id).await? {
            None => SigningKey::Unknown,
            Some(entry) => match &entry.active {
                None => SigningKey::Inactive,
                Some((secret, _)) => SigningKey::Active(secret.clone()),
            },
        })
    }

    /// The principal of a request whose signature with access key `id` was verified.
    pub async fn principal_for_access_key(&self, id: &str) -> Result<Principal> {
        let entry = self.key_entry(id).await?;
        let Some((_, principal)) = entry.as_ref().and_then(|e| e.active.as_ref()) else {
            return Err(Error::Unauthenticated(format!(
                "access key {id} is unknown or disabled"
            )));
        };
        let now = Utc::now();
        let due = entry.as_ref().is_some_and(|e| {
            let mut last = e.last_used.lock().unwrap_or_else(|p| p.into_inner());
            let due = last
                .is_none_or(|t| (now - t).num_seconds() >= super::sessions::LAST_USED_GRANULARITY);
            if due {
                *last = Some(now);
            }
            due
        });
        if due {
            self.store.access_key_touch(id, now).await?;
        }
        Ok(principal.clone())
    }
}

impl Iam {
    /// The access key and secret a presigned URL of `p` is signed with: the key this session was
    /// exchanged for, else the user's newest active key. The URL is then exactly what the user
    /// could sign with their own key (the S3 endpoint verifies it, and disabling or deleting the
    /// key revokes it); Nuvem never signs with a key of its own nor with anyone else's, so an
    /// assumed-account session, whose user is not the caller, has none. `None`: no active key.
    pub async fn presigning_key(&self, p: &Principal) -> Result<Option<(String, String)>> {
        if p.assumed_by.is_some() {
            return Ok(None);
        }
        let mut candidates = match &p.access_key_id {
            Some(id) => vec![id.clone()],
            None => {
                let mut keys = self.store.access_key_list_for_user(&p.user.id).await?;
                keys.retain(|k| k.status == api::AccessKeyStatus::Active);
                keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
                keys.into_iter().map(|k| k.id).collect()
            }
        };
        for id in candidates.drain(..) {
            if let SigningKey::Active(secret) = self.access_key_signing_secret(&id).await? {
                return Ok(Some((id, secret)));
            }
        }
        Ok(None)
    }
}
