//! Test mails: one message to one contact, to prove the path from the store
//! through MIME to the mail service. Marked as a test in a header and a tag.

use crate::App;
use crate::domain::{ContactId, TenantId};
use crate::mime::{self, MimeError};
use crate::ports::{MailError, OutgoingMail};
use crate::services::contacts::{self, ContactError};
use crate::services::tenants;

#[derive(Debug, thiserror::Error)]
pub enum TestMailError {
    #[error(transparent)]
    Contact(#[from] ContactError),
    #[error(transparent)]
    Mime(#[from] MimeError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

impl From<tenants::TenantError> for TestMailError {
    fn from(e: tenants::TenantError) -> Self {
        Self::Contact(ContactError::Tenant(e))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TestMailReceipt {
    /// The Message-ID header of the sent message.
    pub message_id: String,
    /// The mail service's id for the message.
    pub provider_message_id: String,
}

/// Sends a test mail to one contact of an active tenant.
#[tracing::instrument(skip(app))]
pub async fn send(
    app: &App,
    tenant_id: &TenantId,
    contact_id: &ContactId,
) -> Result<TestMailReceipt, TestMailError> {
    let tenant = tenants::get_active(app, tenant_id).await?;
    let contact = contacts::get(app, tenant_id, contact_id).await?;
    let name = contact.display_name();
    let message = mime::Message {
        from_name: tenant.name.as_str().to_owned(),
        from: app.settings.mail_from.clone(),
        to_name: Some(name.clone()),
        to: contact.email.clone(),
        subject: format!("Testmail von {}", tenant.name.as_str()),
        text: format!(
            "Hallo {name},\n\ndies ist eine Testmail von {} über EMMA.\n",
            tenant.name.as_str()
        ),
        html: format!(
            "<!doctype html><html lang=\"de\"><body><p>Hallo {},</p>\
             <p>dies ist eine Testmail von {} über EMMA.</p></body></html>",
            mime::escape_html(&name),
            mime::escape_html(tenant.name.as_str())
        ),
        headers: vec![("X-EMMA-Test", "1".to_owned())],
        list_unsubscribe: None,
    };
    let built = mime::build(&message, app.clock.now().timestamp())?;
    let mail = OutgoingMail {
        tenant: tenant_id.clone(),
        from: app.settings.mail_from.clone(),
        recipients: vec![contact.email.clone()],
        raw: built.raw,
        tags: vec![
            ("tenant".to_owned(), tenant_id.to_string()),
            ("kind".to_owned(), "test".to_owned()),
            ("contact".to_owned(), contact.id.to_string()),
        ],
    };
    let sent = app.mailer.send(&mail).await?;
    tracing::info!(
        tenant = %tenant_id,
        recipient = %app.pseudonyms.email(&contact.email),
        provider_message_id = %sent.provider_message_id,
        "test mail sent"
    );
    Ok(TestMailReceipt {
        message_id: built.message_id,
        provider_message_id: sent.provider_message_id,
    })
}
