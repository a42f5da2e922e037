//! Table tests of the generic provider: compile errors, decoding of both
//! example shapes, the handshake script.
