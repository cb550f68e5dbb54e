//! Password hashing on a fixed set of threads with a bounded queue.
//!
//! argon2id uses 19 MiB and ~40 ms of CPU per hash by design. Run on tokio's blocking pool, every
//! concurrent sign-in got a thread of its own: 64 at once took the server from 0.8 to 8 GB, and
//! the allocator kept it (each thread's arena holds its freed 19 MiB). Here a fixed number of
//! threads (one per core) do all hashing, so memory is bounded by `threads × 19 MiB`, and a queue
//! of bounded length makes a burst wait its turn; past that, the caller is told to retry
//! (503 `ServiceUnavailable` with `Retry-After`) instead of the server growing without bound.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::crypto;
use crate::error::{Error, Result};

enum Job {
    Hash(String, oneshot::Sender<anyhow::Result<String>>),
    Verify(String, String, oneshot::Sender<bool>),
}

/// The hashing threads; dropped with the last clone of the service, which ends them.
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
    threads: usize,
    queue: usize,
}

impl PasswordHasher {
    /// `threads` hashing threads (0: one per core) and room for `queue` waiting jobs.
    pub fn new(threads: usize, queue: usize) -> Self {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let (jobs, rx) = mpsc::sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("nuvem-argon2-{n}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password-hashing thread");
            }
        }
        PasswordHasher {
            jobs,
            threads,
            queue,
        }
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => Error::ServiceUnavailable {
                message: format!(
                    "too many sign-ins at once: {} are being checked and {} wait; try again in a moment",
                    self.threads, self.queue
                ),
                retry_after_seconds: 1,
            },
            TrySendError::Disconnected(_) => Error::internal("the password-hashing threads stopped"),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let (tx, rx) = oneshot::channel();
        self.submit(Job::Hash(password.to_owned(), tx))?;
        rx.await
            .map_err(|_| Error::internal("a password-hashing thread failed"))?
            .map_err(Error::internal)
    }

    pub async fn verify(&self, hash: &str, password: &str) -> Result<bool> {
        let (tx, rx) = oneshot::channel();
        self.submit(Job::Verify(hash.to_owned(), password.to_owned(), tx))?;
        rx.await
            .map_err(|_| Error::internal("a password-hashing thread failed"))
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let Ok(rx) = rx.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        match job {
            Job::Hash(password, reply) => {
                let _ = reply.send(crypto::hash_password(&password));
            }
            Job::Verify(hash, password, reply) => {
                let _ = reply.send(crypto::verify_password(&hash, &password));
            }
        }
    }
}
