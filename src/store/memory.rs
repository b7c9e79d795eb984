//! An in-memory store for the pipeline's tests.
