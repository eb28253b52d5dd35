//! Table tests of the artifact rules (selection, packaging).

mod package;
mod selection;
mod termination;
