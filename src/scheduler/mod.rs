//! Pure planning: which pass of which stream to work next and which windows to ask for,
//! decided from the budget left, the checkpoints and the modules' priorities. No I/O and
//! no clock: the time is passed in, so every decision can be tested exhaustively.

pub mod cursor;
