//! The signed-in user's account: name, email, role, and which
//! notifications also come by email.

use crate::components::post_form::PostForm;
use engine::domain::EmailPreference;
use leptos::prelude::*;

use crate::rpc::answer::answer;

use crate::rpc::account::{get_account, Account, SetEmailPreference};

#[component]
pub fn AccountPage() -> impl IntoView {
    let save = ServerAction::<SetEmailPreference>::new();
    let account = answer(move || save.version().get(), |_| get_account());
    view! {
        <h1>"Account"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(account) => view! { <Details account save/> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Details(account: Account, save: ServerAction<SetEmailPreference>) -> impl IntoView {
    let current = account.email_preference;
    view! {
        <dl class="account-details">
            <dt>"Name"</dt><dd data-testid="account-name">{account.name}</dd>
            <dt>"Email"</dt><dd data-testid="account-email">{account.email}</dd>
            <dt>"Role"</dt><dd data-testid="account-role">{account.role.label()}</dd>
        </dl>
        <PostForm action=save>
            <label for="email-preference">"Email me about"</label>
            <select id="email-preference" name="preference" data-testid="email-preference">
                {EmailPreference::ALL.iter().map(|&pref| view! {
                    <option value=pref.as_str() selected={pref == current}>{pref.label()}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="button" data-testid="save-preference">"Save"</button>
        </PostForm>
        {move || save.value().get().map(|result| match result {
            Ok(_) => view! { <p class="muted" role="status" data-testid="saved">"Saved."</p> }.into_any(),
            Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
        })}
    }
}
