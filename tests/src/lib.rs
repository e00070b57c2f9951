//! The workspace's end-to-end suites live in `tests/`: both drivers against the simulated
//! server (`device-grant-sim`) over real sockets, and against real independent
//! authorization servers. This library is empty; it exists so the suites have a package.
