//! The node's actors as tasks: each runs in the node's span, stops with the node, and none dies
//! unseen. An actor that panics (a bug: no input should make one) is logged as an error and halts
//! the node's sequencing, so the RPC says so instead of confirming what nobody will post.

use super::*;
use tokio::task::AbortHandle;
use tracing::Span;

/// Called with why an actor stopped.
type OnPanic = Arc<dyn Fn(String) + Send + Sync>;

/// The node's running actors.
pub(crate) struct Tasks {
    span: Span,
    on_panic: OnPanic,
    handles: Vec<AbortHandle>,
}

impl Tasks {
    /// Actors of the node whose span is `span`; `on_panic` hears of any that panics.
    pub fn new(span: Span, on_panic: OnPanic) -> Self {
        Tasks {
            span,
            on_panic,
            handles: Vec::new(),
        }
    }

    /// Actors that halt `core`'s sequencing if one panics.
    pub fn halting<Q: Profile, N>(span: Span, shared: &Arc<N>) -> Self
    where
        N: std::ops::Deref<Target = Core<Q>> + Send + Sync + 'static,
    {
        let shared = shared.clone();
        Tasks::new(span, Arc::new(move |why| *lock(&shared.halted) = Some(why)))
    }

    /// Runs actor `role`.
    pub fn spawn(
        &mut self,
        role: &'static str,
        actor: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let task = tokio::spawn(actor.instrument(self.span.clone()));
        self.handles.push(task.abort_handle());
        let (span, on_panic) = (self.span.clone(), self.on_panic.clone());
        let watcher = tokio::spawn(async move {
            if let Err(e) = task.await {
                if e.is_panic() {
                    let why = format!("the {role} actor panicked (a bug; the log above says where): restart the node");
                    span.in_scope(|| error!("{why}"));
                    on_panic(why);
                }
            }
        });
        self.handles.push(watcher.abort_handle());
    }

    /// Every task, to stop them.
    pub fn into_handles(self) -> Vec<AbortHandle> {
        self.handles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_actor_that_panics_is_reported_and_the_others_run_on() {
        let seen = Arc::new(Mutex::new(None));
        let s = seen.clone();
        let mut tasks = Tasks::new(Span::none(), Arc::new(move |why| *lock(&s) = Some(why)));
        let (tx, mut rx) = mpsc::channel(1);
        tasks.spawn("follower", async { panic!("injected") });
        tasks.spawn("outbox", async move {
            let _ = tx.send(()).await;
        });
        rx.recv().await.expect("the other actor ran");
        for _ in 0..1_000 {
            if lock(&seen).is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let why = lock(&seen).clone().expect("the panic was reported");
        assert!(why.contains("follower actor panicked"), "{why}");
        for h in tasks.into_handles() {
            h.abort();
        }
    }
}
