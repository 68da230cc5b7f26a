//! Long-lived extraction threads.
//!
//! A fixed set of OS threads (`pipeline.extraction_threads`), started with the worker, each
//! keeping its own warm engines (Tesseract's are thread-local in `claimscan_ocr`), fed by one
//! channel. A job's result comes back through a oneshot channel, so the async side just awaits it.
//! This replaces `spawn_blocking` per upload, whose threads come and go (tokio retires idle
//! blocking threads after 10 s) and each of which had to build its own engines when it first met
//! a photo or a language.
//!
//! - The jobs run inside a rayon pool of the same `n` threads (named `{name}-{i}`), dispatched by
//!   `n` small threads that take them from the channel. A job's own parallel work (the OCR of a
//!   scanned PDF's pages in `claimscan_read`) then spreads over idle extraction threads, with their
//!   warm engines, instead of going to rayon's global pool and its own engines.
//! - A job that panics is caught on its thread: its caller gets [`ThreadError::Panicked`] (the
//!   worker turns it into its transient `extraction_crashed`) and the thread takes the next job.
//! - [`Threads::shutdown`] (and dropping the last handle) closes the channel: the threads finish
//!   every job already queued, then exit; `shutdown` waits for them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ThreadError {
    /// The job panicked (the thread itself lives on).
    #[error("extraction panicked: {0}")]
    Panicked(String),
    /// The threads were shut down before the job could run.
    #[error("the extraction threads are shut down")]
    Shutdown,
}

/// A fixed pool of named OS threads taking jobs from one queue.
pub struct Threads {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
    size: usize,
}

impl Threads {
    /// Starts `n` threads named `{name}-{i}`. Each runs `init(i)` once before its first job (to
    /// warm its engines); a panic in `init` is logged and the thread goes on. Returns once every
    /// thread has run `init` (blocking: call it from a blocking context in async code).
    pub fn start(
        n: usize,
        name: &str,
        init: impl Fn(usize) + Send + Sync + 'static,
    ) -> std::io::Result<Threads> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let pool_name = name.to_string();
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .thread_name(move |i| format!("{pool_name}-{i}"))
                .build()
                .map_err(std::io::Error::other)?,
        );
        // every pool thread warm before the first job
        pool.broadcast(|ctx| {
            let i = ctx.index();
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| init(i))) {
                tracing::warn!(thread = i, panic = %panic_message(&*p), "thread warm-up panicked");
            }
        });
        let mut handles = Vec::with_capacity(n);
        for i in 0..n.max(1) {
            let rx = rx.clone();
            let pool = pool.clone();
            let h = std::thread::Builder::new()
                .name(format!("{name}-dispatch-{i}"))
                .spawn(move || {
                    loop {
                        // One idle thread at a time waits in `recv`; the others wait for the lock.
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            // The job catches its own panics (see `run`); this is a second guard.
                            Ok(job) => {
                                let _ = catch_unwind(AssertUnwindSafe(|| pool.install(job)));
                            }
                            Err(_) => return, // channel closed and drained
                        }
                    }
                })?;
            handles.push(h);
        }
        Ok(Threads {
            tx: Mutex::new(Some(tx)),
            handles: Mutex::new(handles),
            size: n.max(1),
        })
    }

    /// Number of threads.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `f` on the next free thread and returns what it returns. If the caller stops
    /// waiting, the job still runs (its result is dropped).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ThreadError> {
        let (otx, orx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let r = catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p));
            let _ = otx.send(r);
        });
        {
            let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
            let tx = guard.as_ref().ok_or(ThreadError::Shutdown)?;
            tx.send(job).map_err(|_| ThreadError::Shutdown)?;
        }
        match orx.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(message)) => Err(ThreadError::Panicked(message)),
            Err(_) => Err(ThreadError::Shutdown),
        }
    }

    /// Takes no more jobs, lets the threads finish the queued ones and waits for them to exit.
    /// Blocking: call it from a blocking context (`spawn_blocking`) in async code.
    pub fn shutdown(&self) {
        drop(self.tx.lock().unwrap_or_else(|p| p.into_inner()).take());
        let handles: Vec<_> = self
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        // Close the channel without waiting: the threads drain what is queued and exit.
        drop(self.tx.lock().unwrap_or_else(|p| p.into_inner()).take());
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn jobs_run_on_the_fixed_threads_and_keep_their_thread_state() {
        let warmed = Arc::new(AtomicUsize::new(0));
        let w = warmed.clone();
        let t = Threads::start(2, "t-test", move |_| {
            w.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        thread_local! {
            static JOBS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        }
        let mut names = std::collections::HashSet::new();
        let mut most = 0;
        for _ in 0..20 {
            let (name, jobs) = t
                .run(|| {
                    JOBS.with(|j| j.set(j.get() + 1));
                    (
                        std::thread::current().name().unwrap().to_string(),
                        JOBS.with(|j| j.get()),
                    )
                })
                .await
                .unwrap();
            names.insert(name);
            most = most.max(jobs);
        }
        assert!(names.iter().all(|n| n.starts_with("t-test-")), "{names:?}");
        assert!(names.len() <= 2);
        // a thread's state (its warm engines, in the worker) outlives each job
        assert!(most >= 10, "{most}");
        assert_eq!(warmed.load(Ordering::SeqCst), 2);
        assert_eq!(t.run(|| 6 * 7).await, Ok(42));
    }

    #[tokio::test]
    async fn a_jobs_own_parallel_work_runs_on_the_extraction_threads() {
        let t = Threads::start(2, "t-nested", |_| {}).unwrap();
        let name = || {
            std::thread::sleep(Duration::from_millis(20));
            std::thread::current()
                .name()
                .unwrap_or("unnamed")
                .to_string()
        };
        let (a, b) = t.run(move || rayon::join(name, name)).await.unwrap();
        for n in [&a, &b] {
            assert!(
                n.starts_with("t-nested-") && !n.contains("dispatch"),
                "{a} {b}"
            );
        }
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_threads_live_on() {
        let t = Threads::start(1, "t-panic", |_| {}).unwrap();
        let r: Result<(), _> = t.run(|| panic!("boom")).await;
        assert_eq!(r, Err(ThreadError::Panicked("boom".into())));
        // the only thread is still there
        for i in 0..3 {
            assert_eq!(t.run(move || i + 1).await, Ok(i + 1));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_drains_queued_jobs_then_refuses_new_ones() {
        let t = Arc::new(Threads::start(1, "t-drain", |_| {}).unwrap());
        let done = Arc::new(AtomicUsize::new(0));
        let mut waiting = Vec::new();
        for _ in 0..5 {
            let (t, d) = (t.clone(), done.clone());
            waiting.push(tokio::spawn(async move {
                t.run(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    d.fetch_add(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        // let every job reach the queue, then shut down: all five still run
        tokio::time::sleep(Duration::from_millis(30)).await;
        let t2 = t.clone();
        tokio::task::spawn_blocking(move || t2.shutdown())
            .await
            .unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 5);
        for w in waiting {
            assert_eq!(w.await.unwrap(), Ok(()));
        }
        assert_eq!(t.run(|| 1).await, Err(ThreadError::Shutdown));
    }
}
