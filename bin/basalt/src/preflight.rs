//! Checks before a node starts: its data directory is its own, and its ports are free. Each failure
//! is one line that says what to do, never a panic deep in a listener.

use anyhow::{anyhow, bail, Context, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;

/// Name of the lock file in a data directory.
const LOCK_FILE: &str = "LOCK";

/// An exclusive hold on a data directory for the life of this process (the OS drops it on exit,
/// however the process ends).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Creates `dir` if needed and takes it for this process; fails if another running process holds it.
pub fn lock_data_dir(dir: &Path) -> Result<DataDirLock> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            };
            bail!(
                "data directory {} is in use by another running node{who}: stop it, or use another --data-dir",
                dir.display()
            );
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    Ok(DataDirLock { _file: file })
}

/// The directory of a data directory's cached development proving keys, kept by `--fresh`.
pub const ZK_KEYS_DIR: &str = "zk-keys";

/// Empties a data directory this process holds, keeping its lock file (removing the directory
/// would drop the lock while the process still runs) and its cached proving keys.
pub fn clear_data_dir(dir: &Path, _lock: &DataDirLock) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        // The lock, and the development proving keys: deterministic, so a new chain would make
        // the same ones again (it takes a while).
        if entry.file_name() == LOCK_FILE || entry.file_name() == ZK_KEYS_DIR {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}

/// Fails with one line naming the flag to change if nothing can listen on `addr`.
pub fn ensure_port_free(addr: SocketAddr, what: &str, flag: &str) -> Result<()> {
    TcpListener::bind(addr).map(drop).map_err(|e| {
        anyhow!("{what} address {addr} is not free ({e}): is another node running? Choose another with {flag}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_of_a_data_directory_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock_data_dir(dir.path()).unwrap();
        // Another open file description conflicts with the held lock, as another process would.
        let err = lock_data_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("in use by another running node"), "{err}");
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        std::fs::write(dir.path().join("state.redb"), b"x").unwrap();
        clear_data_dir(dir.path(), &lock).unwrap();
        assert!(!dir.path().join("state.redb").exists());
        assert!(
            lock_data_dir(dir.path()).is_err(),
            "still held after clearing"
        );
        drop(lock);
        lock_data_dir(dir.path()).unwrap();
    }

    #[test]
    fn a_taken_port_is_one_line_naming_the_flag() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = held.local_addr().unwrap();
        let err = ensure_port_free(addr, "JSON-RPC", "--rpc-port")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--rpc-port") && !err.contains('\n'), "{err}");
    }
}
