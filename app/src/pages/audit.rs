//! The audit log: who logged in, out, or changed settings (admins only).

use leptos::prelude::*;

use crate::rpc::answer::answer;

use crate::rpc::audit::get_audit_log;

#[component]
pub fn AuditPage() -> impl IntoView {
    let entries = answer(|| (), |_| get_audit_log());
    view! {
        <h1>"Audit log"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(lines) => view! {
                        <table class="audit" data-testid="audit-log">
                            <thead><tr><th>"When"</th><th>"Action"</th><th>"Target"</th><th>"Detail"</th></tr></thead>
                            <tbody>
                                {lines.into_iter().map(|line| view! {
                                    <tr>
                                        <td class="nowrap">{line.at}</td>
                                        <td>{line.action}</td>
                                        <td>{line.target.unwrap_or_default()}</td>
                                        <td>{line.detail.unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
