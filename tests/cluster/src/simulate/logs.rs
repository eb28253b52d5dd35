//! Container logs kept in memory per pod and container, for the pod `log` endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Bytes kept per container; older output is dropped first (the kubelet rotates too).
const MAX_LOG_BYTES: usize = 8 * 1024 * 1024;

/// `(namespace, pod)` → `(container, log)` in spec order.
type LogMap = HashMap<(String, String), Vec<(String, String)>>;

/// Logs of every pod the simulation ran, by `(namespace, pod)`, containers in spec order.
#[derive(Debug, Clone, Default)]
pub struct PodLogs {
    inner: Arc<Mutex<LogMap>>,
}

impl PodLogs {
    /// Declares a pod's containers (spec order) with empty logs, replacing an older pod's.
    pub fn start_pod(&self, namespace: &str, pod: &str, containers: &[String]) {
        let logs = containers
            .iter()
            .map(|c| (c.clone(), String::new()))
            .collect();
        self.lock()
            .insert((namespace.to_owned(), pod.to_owned()), logs);
    }

    /// Appends output of one container.
    pub fn append(&self, namespace: &str, pod: &str, container: &str, text: &str) {
        let mut map = self.lock();
        let logs = map
            .entry((namespace.to_owned(), pod.to_owned()))
            .or_default();
        let index = match logs.iter().position(|(c, _)| c == container) {
            Some(index) => index,
            None => {
                logs.push((container.to_owned(), String::new()));
                logs.len() - 1
            }
        };
        let log = &mut logs[index].1;
        log.push_str(text);
        if log.len() > MAX_LOG_BYTES {
            let mut cut = log.len() - MAX_LOG_BYTES;
            while !log.is_char_boundary(cut) {
                cut += 1;
            }
            log.drain(..cut);
        }
    }

    /// The log of `container` (or of the pod's first container when `None`).
    pub fn get(&self, namespace: &str, pod: &str, container: Option<&str>) -> Option<String> {
        let map = self.lock();
        let logs = map.get(&(namespace.to_owned(), pod.to_owned()))?;
        match container {
            Some(name) => logs.iter().find(|(c, _)| c == name).map(|(_, l)| l.clone()),
            None => logs.first().map(|(_, l)| l.clone()),
        }
    }

    /// Forgets a deleted pod's logs.
    pub fn remove_pod(&self, namespace: &str, pod: &str) {
        self.lock().remove(&(namespace.to_owned(), pod.to_owned()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogMap> {
        // A panic while holding the lock cannot leave the map inconsistent; keep serving.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The kubelet's `FallbackToLogsOnError` message: the last 80 lines, at most 2048 bytes.
pub fn log_tail_for_message(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let mut tail = lines[lines.len().saturating_sub(80)..].join("\n");
    if log.ends_with('\n') && !tail.is_empty() {
        tail.push('\n');
    }
    if tail.len() > 2048 {
        let mut cut = tail.len() - 2048;
        while !tail.is_char_boundary(cut) {
            cut += 1;
        }
        tail.drain(..cut);
    }
    tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_kept_per_container_and_default_to_the_first() {
        let logs = PodLogs::default();
        logs.start_pod("ns", "p", &["a".into(), "b".into()]);
        logs.append("ns", "p", "b", "from b\n");
        logs.append("ns", "p", "a", "from a\n");
        assert_eq!(logs.get("ns", "p", Some("b")).as_deref(), Some("from b\n"));
        assert_eq!(logs.get("ns", "p", None).as_deref(), Some("from a\n"));
        assert_eq!(logs.get("ns", "p", Some("c")), None);
        logs.remove_pod("ns", "p");
        assert_eq!(logs.get("ns", "p", None), None);
    }

    #[test]
    fn the_fallback_message_is_the_log_tail() {
        let log: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let tail = log_tail_for_message(&log);
        assert!(tail.starts_with("line 20\n"));
        assert!(tail.ends_with("line 99\n"));
        assert_eq!(log_tail_for_message(&"x".repeat(5000)).len(), 2048);
    }
}
