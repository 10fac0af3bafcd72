use std::time::Duration;

use leptos::prelude::*;

/// A counter that goes up once every `every`, in the browser only (the
/// server renders once and never ticks). Pages poll or count down with it;
/// the timer stops when the component that asked for it goes away.
pub fn use_ticker(every: Duration) -> ReadSignal<u64> {
    let (ticks, set_ticks) = signal(0u64);
    #[cfg(feature = "hydrate")]
    {
        use leptos::leptos_dom::helpers::set_interval_with_handle;
        if let Ok(handle) = set_interval_with_handle(move || set_ticks.update(|n| *n += 1), every) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (every, set_ticks);
    ticks
}
