//! An in-memory source for the pipeline's tests.
