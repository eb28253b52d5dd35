//! Table-driven tests of the executor's pure parts.
mod plan;
mod plan_images;
mod plan_on_failure;
