//! Jenkins actions.
