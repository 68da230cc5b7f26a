//! The invoice worker: `invoice.uploaded` messages in (RabbitMQ), files from object storage
//! (S3 protocol), state in PostgreSQL, and exactly one outcome per upload: a claim, a review task
//! or a rejection with a stable code.
//!
//! - [`pipeline`]: read -> layout -> matching, plain functions shared with `claimscan run`.
//! - [`decide`]: the pure decision (checks, points, review reasons).
//! - [`db`], [`s3`], [`amqp`]: the adapters; [`worker`]: the consume loop; [`threads`]: the
//!   long-lived extraction threads; [`metrics`]: HTTP.
//! - [`engagement`]: the engagement worker (activity in, scores, challenges, `challenge.scheduled` out).
//! - [`models`]: hot swap, rollback and shadow mode of the layout model; [`admin`]: their HTTP API.

pub mod admin;
pub mod amqp;
pub mod config;
pub mod db;
pub mod decide;
pub mod embedded;
pub mod engagement;
pub mod erase;
pub mod metrics;
pub mod models;
pub mod pace;
pub mod pipeline;
pub mod s3;
pub mod threads;
pub mod worker;

pub use config::Config;
pub use worker::Worker;
