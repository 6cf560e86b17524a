//! basalt-node
