//! Access control, in one place: the table of every route with the
//! permission it needs and the audit action it records, and the guard that
//! every route passes — authenticate (session cookie, API key or SSO bearer
//! token), check the permission and the tenant in the path, keep API keys
//! off the routes for people, check CSRF on cookie-authenticated changes,
//! and write the audit entry afterwards.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::App;
use crate::domain::{Credential, Permission, Principal, Role, TenantId};
use crate::services::api_keys;
use crate::services::audit::{self, Actor, AuditEntry, Outcome};
use crate::services::sessions::{self, SessionToken, SignInMethod};
use crate::services::sso::{self, SsoError};
use crate::services::users::UserError;

/// What one route needs.
#[derive(Debug, Clone)]
pub struct RouteAccess {
    pub method: Method,
    /// The route as registered, e.g. `/api/tenants/{tenant_id}/contacts`.
    pub path: &'static str,
    pub permission: Permission,
    /// The audit action a state-changing route records, e.g. `contact.create`.
    pub action: Option<&'static str>,
}

const fn route(
    method: Method,
    path: &'static str,
    permission: Permission,
    action: Option<&'static str>,
) -> RouteAccess {
    RouteAccess {
        method,
        path,
        permission,
        action,
    }
}

use Permission::*;

/// Every route of the API and what it needs. A route missing here is refused.
pub static ROUTES: &[RouteAccess] = &[
    route(Method::GET, "/health", Public, None),
    route(Method::GET, "/api/openapi.json", Public, None),
    // Sign-in writes its own audit entries (also for unknown accounts).
    route(Method::POST, "/api/auth/sign-in", Public, None),
    route(
        Method::POST,
        "/api/auth/sign-out",
        SignedIn,
        Some("auth.sign_out"),
    ),
    route(Method::GET, "/api/auth/me", SignedIn, None),
    route(
        Method::POST,
        "/api/auth/password",
        SignedIn,
        Some("auth.password_change"),
    ),
    route(
        Method::POST,
        "/api/auth/totp",
        SignedIn,
        Some("auth.totp_setup"),
    ),
    route(
        Method::DELETE,
        "/api/auth/totp",
        SignedIn,
        Some("auth.totp_remove"),
    ),
    route(
        Method::POST,
        "/api/auth/totp/confirm",
        SignedIn,
        Some("auth.totp_enable"),
    ),
    // The reset routes write their own audit entries (no one is signed in).
    route(Method::POST, "/api/auth/password-reset", Public, None),
    route(
        Method::POST,
        "/api/auth/password-reset/confirm",
        Public,
        None,
    ),
    route(Method::GET, "/api/platform/tenants", ReadTenants, None),
    route(
        Method::POST,
        "/api/platform/tenants",
        ManageTenants,
        Some("tenant.create"),
    ),
    route(
        Method::GET,
        "/api/platform/tenants/{tenant_id}",
        ReadTenants,
        None,
    ),
    route(
        Method::PATCH,
        "/api/platform/tenants/{tenant_id}",
        ManageTenants,
        Some("tenant.update"),
    ),
    route(Method::GET, "/api/platform/audit", ReadPlatformAudit, None),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/users",
        ManageUsers,
        None,
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/users",
        ManageUsers,
        Some("user.create"),
    ),
    route(
        Method::PATCH,
        "/api/tenants/{tenant_id}/users/{user_id}",
        ManageUsers,
        Some("user.update"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/users/{user_id}",
        ManageUsers,
        Some("user.delete"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/api-keys",
        ManageApiKeys,
        None,
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/api-keys",
        ManageApiKeys,
        Some("api_key.create"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/api-keys/{key_id}",
        ManageApiKeys,
        Some("api_key.revoke"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/audit",
        ReadAudit,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/contacts",
        ReadContacts,
        None,
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/contacts",
        WriteContacts,
        Some("contact.create"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/contacts/{contact_id}",
        ReadContacts,
        None,
    ),
    route(
        Method::PATCH,
        "/api/tenants/{tenant_id}/contacts/{contact_id}",
        WriteContacts,
        Some("contact.update"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/contacts/{contact_id}",
        WriteContacts,
        Some("contact.delete"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/contacts/{contact_id}/test-mail",
        SendTestMail,
        Some("contact.test_mail"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/contacts/{contact_id}/erase",
        WriteContacts,
        Some("contact.erase"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/attributes",
        ReadContacts,
        None,
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/attributes",
        WriteContacts,
        Some("attribute.create"),
    ),
    route(
        Method::PATCH,
        "/api/tenants/{tenant_id}/attributes/{attribute_name}",
        WriteContacts,
        Some("attribute.update"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/attributes/{attribute_name}",
        WriteContacts,
        Some("attribute.delete"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/lists",
        WriteContacts,
        Some("list.create"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/lists",
        ReadContacts,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/lists/{list_id}",
        ReadContacts,
        None,
    ),
    route(
        Method::PATCH,
        "/api/tenants/{tenant_id}/lists/{list_id}",
        WriteContacts,
        Some("list.rename"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/lists/{list_id}",
        WriteContacts,
        Some("list.delete"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/lists/{list_id}/members",
        ReadContacts,
        None,
    ),
    route(
        Method::PUT,
        "/api/tenants/{tenant_id}/lists/{list_id}/members/{contact_id}",
        WriteContacts,
        Some("list.add_member"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/lists/{list_id}/members/{contact_id}",
        WriteContacts,
        Some("list.remove_member"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/suppressions",
        ReadContacts,
        None,
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/suppressions",
        WriteContacts,
        Some("suppression.add"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/suppressions/{entry_id}",
        WriteContacts,
        Some("suppression.remove"),
    ),
    // The suppression list as CSV: the same entries the list and its page
    // show to viewers (staff need to see why someone is not mailed), so
    // the same permission; the download of addresses in bulk is on record.
    // An import puts addresses on it: for editors.
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/suppressions/export",
        ReadContacts,
        Some("suppression.export"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/suppressions/import",
        WriteContacts,
        Some("suppression.import"),
    ),
    // Everything stored about one contact (GDPR Art. 15): for editors.
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/contacts/{contact_id}/data",
        WriteContacts,
        Some("contact.data_export"),
    ),
    // An export carries every contact's personal data: for editors.
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/exports",
        WriteContacts,
        Some("export.request"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/exports/{export_id}",
        WriteContacts,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/exports/{export_id}/file",
        WriteContacts,
        Some("export.download"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/imports",
        WriteContacts,
        Some("import.announce"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/imports",
        ReadContacts,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/imports/{import_id}",
        ReadContacts,
        None,
    ),
    // The analysis shows the file's first rows: for those who import.
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/imports/{import_id}/analysis",
        WriteContacts,
        None,
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/imports/{import_id}/start",
        WriteContacts,
        Some("import.start"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/imports/{import_id}/report",
        ReadContacts,
        None,
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/signup-forms",
        WriteContacts,
        Some("signup_form.create"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/signup-forms",
        ReadContacts,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/signup-forms/{form_id}",
        ReadContacts,
        None,
    ),
    route(
        Method::PUT,
        "/api/tenants/{tenant_id}/signup-forms/{form_id}",
        WriteContacts,
        Some("signup_form.update"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/signup-forms/{form_id}",
        WriteContacts,
        Some("signup_form.delete"),
    ),
    // Consent evidence (time, IP, user agent, text, the mail as sent):
    // full IP addresses, so for editors and on the audit log.
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/contacts/{contact_id}/consent",
        WriteContacts,
        Some("contact.consent_read"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/segments",
        WriteContacts,
        Some("segment.create"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/segments",
        ReadContacts,
        None,
    ),
    // Counting an unsaved filter changes nothing: the live count.
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/segments/count",
        ReadContacts,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/segments/{segment_id}",
        ReadContacts,
        None,
    ),
    route(
        Method::PATCH,
        "/api/tenants/{tenant_id}/segments/{segment_id}",
        WriteContacts,
        Some("segment.update"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/segments/{segment_id}",
        WriteContacts,
        Some("segment.delete"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/segments/{segment_id}/count",
        ReadContacts,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/segments/{segment_id}/contacts",
        ReadContacts,
        None,
    ),
    // The image library (Bilder): editors upload, rename and delete.
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/assets",
        WriteContent,
        Some("asset.announce"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/assets",
        ReadContent,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/assets/{asset_id}",
        ReadContent,
        None,
    ),
    route(
        Method::PATCH,
        "/api/tenants/{tenant_id}/assets/{asset_id}",
        WriteContent,
        Some("asset.rename"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/assets/{asset_id}",
        WriteContent,
        Some("asset.delete"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/assets/{asset_id}/finish",
        WriteContent,
        Some("asset.finish"),
    ),
    // Campaigns (Kampagnen): editors plan them; readers follow them.
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/campaigns",
        WriteContent,
        Some("campaign.create"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/campaigns",
        ReadContent,
        None,
    ),
    // Counting an audience changes nothing.
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/campaigns/audience-count",
        ReadContent,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/campaigns/{campaign_id}",
        ReadContent,
        None,
    ),
    route(
        Method::PUT,
        "/api/tenants/{tenant_id}/campaigns/{campaign_id}",
        WriteContent,
        Some("campaign.update"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/campaigns/{campaign_id}/schedule",
        WriteContent,
        Some("campaign.schedule"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/campaigns/{campaign_id}/pause",
        WriteContent,
        Some("campaign.pause"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/campaigns/{campaign_id}/resume",
        WriteContent,
        Some("campaign.resume"),
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/campaigns/{campaign_id}/cancel",
        WriteContent,
        Some("campaign.cancel"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/campaigns/{campaign_id}/progress",
        ReadContent,
        None,
    ),
    // Templates (Vorlagen): editors write them; every saved version stays.
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/templates",
        WriteContent,
        Some("template.create"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/templates",
        ReadContent,
        None,
    ),
    // Rendering an unsaved draft stores nothing.
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/templates/preview",
        ReadContent,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/templates/{template_id}",
        ReadContent,
        None,
    ),
    route(
        Method::PUT,
        "/api/tenants/{tenant_id}/templates/{template_id}",
        WriteContent,
        Some("template.save"),
    ),
    route(
        Method::DELETE,
        "/api/tenants/{tenant_id}/templates/{template_id}",
        WriteContent,
        Some("template.delete"),
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/templates/{template_id}/versions",
        ReadContent,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/templates/{template_id}/versions/{version}",
        ReadContent,
        None,
    ),
    route(
        Method::GET,
        "/api/tenants/{tenant_id}/templates/{template_id}/preview",
        ReadContent,
        None,
    ),
    route(
        Method::POST,
        "/api/tenants/{tenant_id}/templates/{template_id}/test-send",
        SendTestMail,
        Some("template.test_send"),
    ),
    // The browser UI (shared/src/ui): pages and their form posts.
    route(Method::GET, "/anmelden", Public, None),
    // Sign-in writes its own audit entries, also for unknown accounts.
    route(Method::POST, "/anmelden", Public, None),
    route(Method::GET, "/sprache", Public, None),
    // Single sign-on through the identity provider: off to it, and back
    // (the return writes its own audit entries).
    route(Method::GET, "/anmelden/sso", Public, None),
    route(Method::GET, "/anmelden/sso/rueckkehr", Public, None),
    // Forgotten password: the request form and the page the e-mailed link
    // opens (both write their own audit entries).
    route(Method::GET, "/kennwort-vergessen", Public, None),
    route(Method::POST, "/kennwort-vergessen", Public, None),
    route(Method::GET, "/kennwort-zuruecksetzen", Public, None),
    route(Method::POST, "/kennwort-zuruecksetzen", Public, None),
    // The unsubscribe link of every mailing: the signed token is the only
    // credential; the page's form and RFC 8058's one-click POST write their
    // own audit entries (no actor: the person acts through the link).
    route(Method::GET, "/abmelden/{token}", Public, None),
    route(Method::POST, "/abmelden/{token}", Public, None),
    // Tracked links and the open pixel of every tracked mailing: the
    // signed token is the only credential; they change nothing anyone
    // audits (events are counted, not logged).
    route(Method::GET, "/k/{token}", Public, None),
    route(Method::GET, "/o/{token}", Public, None),
    // The public sign-up (double opt-in): the hosted form and the post
    // from it or from the snippet embedded on another site, and the
    // confirmation link's page and its button. No session: they write
    // their own audit entries (no actor: the person acts).
    route(
        Method::GET,
        "/anmeldung/{tenant_id}/{form_id}",
        Public,
        None,
    ),
    route(
        Method::POST,
        "/anmeldung/{tenant_id}/{form_id}",
        Public,
        None,
    ),
    route(Method::GET, "/anmeldung/bestaetigen/{token}", Public, None),
    route(Method::POST, "/anmeldung/bestaetigen/{token}", Public, None),
    route(Method::GET, "/static/emma.css", Public, None),
    route(Method::GET, "/static/emma.js", Public, None),
    route(Method::GET, "/static/segments.js", Public, None),
    route(Method::GET, "/static/templates.js", Public, None),
    route(Method::GET, "/", SignedIn, None),
    route(Method::POST, "/abmelden", SignedIn, Some("auth.sign_out")),
    route(Method::GET, "/benutzer", ManageUsers, None),
    route(Method::POST, "/benutzer", ManageUsers, Some("user.create")),
    route(
        Method::POST,
        "/benutzer/{user_id}",
        ManageUsers,
        Some("user.update"),
    ),
    route(
        Method::POST,
        "/benutzer/{user_id}/loeschen",
        ManageUsers,
        Some("user.delete"),
    ),
    route(Method::GET, "/mandanten", ReadTenants, None),
    route(
        Method::POST,
        "/mandanten",
        ManageTenants,
        Some("tenant.create"),
    ),
    route(Method::GET, "/mandanten/{tenant_id}", ReadTenants, None),
    route(
        Method::POST,
        "/mandanten/{tenant_id}",
        ManageTenants,
        Some("tenant.update"),
    ),
    // Tenant admins see their tenant's log, the operator the platform's.
    route(Method::GET, "/protokoll", ViewOwnAuditLog, None),
    route(Method::GET, "/kontakte", ReadContacts, None),
    route(Method::GET, "/listen", ReadContacts, None),
    route(Method::POST, "/listen", WriteContacts, Some("list.create")),
    route(Method::GET, "/listen/{list_id}", ReadContacts, None),
    route(
        Method::POST,
        "/listen/{list_id}",
        WriteContacts,
        Some("list.rename"),
    ),
    route(
        Method::POST,
        "/listen/{list_id}/loeschen",
        WriteContacts,
        Some("list.delete"),
    ),
    route(
        Method::POST,
        "/listen/{list_id}/mitglieder",
        WriteContacts,
        Some("list.add_member"),
    ),
    route(
        Method::POST,
        "/listen/{list_id}/mitglieder/{contact_id}/entfernen",
        WriteContacts,
        Some("list.remove_member"),
    ),
    route(Method::GET, "/segmente", ReadContacts, None),
    route(
        Method::POST,
        "/segmente",
        WriteContacts,
        Some("segment.create"),
    ),
    // The condition editor without JavaScript (add or remove a row, count)
    // and the live count of segments.js: nothing is saved.
    route(Method::POST, "/segmente/entwurf", ReadContacts, None),
    route(Method::POST, "/segmente/zaehlen", ReadContacts, None),
    route(Method::GET, "/segmente/{segment_id}", ReadContacts, None),
    route(
        Method::POST,
        "/segmente/{segment_id}",
        WriteContacts,
        Some("segment.update"),
    ),
    route(
        Method::POST,
        "/segmente/{segment_id}/loeschen",
        WriteContacts,
        Some("segment.delete"),
    ),
    route(Method::GET, "/kampagnen", ReadContent, None),
    route(
        Method::POST,
        "/kampagnen",
        WriteContent,
        Some("campaign.create"),
    ),
    // The wizard's audience count: nothing is saved.
    route(Method::POST, "/kampagnen/zaehlen", ReadContent, None),
    route(Method::GET, "/kampagnen/neu", WriteContent, None),
    route(Method::GET, "/kampagnen/{campaign_id}", ReadContent, None),
    route(
        Method::GET,
        "/kampagnen/{campaign_id}/bearbeiten",
        WriteContent,
        None,
    ),
    route(
        Method::POST,
        "/kampagnen/{campaign_id}/bearbeiten",
        WriteContent,
        Some("campaign.update"),
    ),
    route(
        Method::POST,
        "/kampagnen/{campaign_id}/planen",
        WriteContent,
        Some("campaign.schedule"),
    ),
    route(
        Method::POST,
        "/kampagnen/{campaign_id}/pausieren",
        WriteContent,
        Some("campaign.pause"),
    ),
    route(
        Method::POST,
        "/kampagnen/{campaign_id}/fortsetzen",
        WriteContent,
        Some("campaign.resume"),
    ),
    route(
        Method::POST,
        "/kampagnen/{campaign_id}/abbrechen",
        WriteContent,
        Some("campaign.cancel"),
    ),
    route(
        Method::POST,
        "/kampagnen/{campaign_id}/test",
        SendTestMail,
        Some("campaign.test_send"),
    ),
    route(Method::GET, "/bilder", ReadContent, None),
    route(
        Method::POST,
        "/bilder",
        WriteContent,
        Some("asset.announce"),
    ),
    route(Method::GET, "/bilder/{asset_id}", ReadContent, None),
    route(
        Method::POST,
        "/bilder/{asset_id}",
        WriteContent,
        Some("asset.rename"),
    ),
    route(
        Method::POST,
        "/bilder/{asset_id}/pruefen",
        WriteContent,
        Some("asset.finish"),
    ),
    route(
        Method::POST,
        "/bilder/{asset_id}/loeschen",
        WriteContent,
        Some("asset.delete"),
    ),
    // Images in mails: for anyone, as mail clients load them.
    route(Method::GET, "/img/{tenant_id}/{file}", Public, None),
    route(Method::GET, "/vorlagen", ReadContent, None),
    route(
        Method::POST,
        "/vorlagen",
        WriteContent,
        Some("template.create"),
    ),
    // The preview frame and the checks: nothing is saved.
    route(Method::POST, "/vorlagen/vorschau", ReadContent, None),
    route(Method::GET, "/vorlagen/{template_id}", ReadContent, None),
    route(
        Method::POST,
        "/vorlagen/{template_id}",
        WriteContent,
        Some("template.save"),
    ),
    route(
        Method::POST,
        "/vorlagen/{template_id}/pruefen",
        ReadContent,
        None,
    ),
    route(
        Method::POST,
        "/vorlagen/{template_id}/test",
        SendTestMail,
        Some("template.test_send"),
    ),
    route(
        Method::POST,
        "/vorlagen/{template_id}/loeschen",
        WriteContent,
        Some("template.delete"),
    ),
    route(
        Method::GET,
        "/vorlagen/{template_id}/vorschau",
        ReadContent,
        None,
    ),
    route(
        Method::POST,
        "/kontakte",
        WriteContacts,
        Some("contact.create"),
    ),
    route(Method::GET, "/kontakte/{contact_id}", ReadContacts, None),
    route(
        Method::POST,
        "/kontakte/{contact_id}",
        WriteContacts,
        Some("contact.update"),
    ),
    route(
        Method::POST,
        "/kontakte/{contact_id}/loeschen",
        WriteContacts,
        Some("contact.delete"),
    ),
    route(
        Method::GET,
        "/kontakte/{contact_id}/einwilligung",
        WriteContacts,
        Some("contact.consent_read"),
    ),
    route(Method::GET, "/anmeldeformulare", ReadContacts, None),
    route(
        Method::POST,
        "/anmeldeformulare",
        WriteContacts,
        Some("signup_form.create"),
    ),
    route(
        Method::GET,
        "/anmeldeformulare/{form_id}",
        ReadContacts,
        None,
    ),
    route(
        Method::POST,
        "/anmeldeformulare/{form_id}",
        WriteContacts,
        Some("signup_form.update"),
    ),
    route(
        Method::POST,
        "/anmeldeformulare/{form_id}/loeschen",
        WriteContacts,
        Some("signup_form.delete"),
    ),
    // Custom contact fields (Felder): for those who manage contacts.
    route(Method::GET, "/felder", WriteContacts, None),
    route(
        Method::POST,
        "/felder",
        WriteContacts,
        Some("attribute.create"),
    ),
    route(
        Method::POST,
        "/felder/{attribute_name}",
        WriteContacts,
        Some("attribute.update"),
    ),
    route(
        Method::POST,
        "/felder/{attribute_name}/loeschen",
        WriteContacts,
        Some("attribute.delete"),
    ),
    // Imports and exports in the browser: the same permissions as their
    // API routes (the announce answers JSON to the page's script).
    route(Method::GET, "/importe", ReadContacts, None),
    route(
        Method::POST,
        "/importe",
        WriteContacts,
        Some("import.announce"),
    ),
    route(Method::GET, "/importe/{import_id}", ReadContacts, None),
    route(
        Method::POST,
        "/importe/{import_id}",
        WriteContacts,
        Some("import.start"),
    ),
    route(
        Method::GET,
        "/importe/{import_id}/fortschritt",
        ReadContacts,
        None,
    ),
    route(
        Method::GET,
        "/importe/{import_id}/bericht",
        ReadContacts,
        None,
    ),
    route(Method::GET, "/exporte", WriteContacts, None),
    route(
        Method::POST,
        "/exporte",
        WriteContacts,
        Some("export.request"),
    ),
    route(
        Method::GET,
        "/exporte/{export_id}/datei",
        WriteContacts,
        Some("export.download"),
    ),
    // The suppression list page; its forms add, import and remove.
    route(Method::GET, "/sperrliste", ReadContacts, None),
    route(
        Method::POST,
        "/sperrliste",
        WriteContacts,
        Some("suppression.add"),
    ),
    route(
        Method::POST,
        "/sperrliste/import",
        WriteContacts,
        Some("suppression.import"),
    ),
    route(
        Method::POST,
        "/sperrliste/{entry_id}/entfernen",
        WriteContacts,
        Some("suppression.remove"),
    ),
    // A contact's Art. 15 page shows everything stored about the person.
    route(
        Method::GET,
        "/kontakte/{contact_id}/auskunft",
        WriteContacts,
        Some("contact.data_export"),
    ),
    route(Method::GET, "/konto", SignedIn, None),
    route(
        Method::POST,
        "/konto/kennwort",
        SignedIn,
        Some("auth.password_change"),
    ),
    route(
        Method::POST,
        "/konto/totp",
        SignedIn,
        Some("auth.totp_setup"),
    ),
    route(
        Method::POST,
        "/konto/totp/bestaetigen",
        SignedIn,
        Some("auth.totp_enable"),
    ),
];

/// Whether a route is a page of the browser UI (answered with HTML,
/// redirects and forms) rather than the JSON API.
pub fn is_page(path: &str) -> bool {
    !path.starts_with("/api/") && path != "/health" && !path.starts_with("/dev-idp/")
}

/// The rule for a route, if it has one.
pub fn rule(method: &Method, path: &str) -> Option<&'static RouteAccess> {
    ROUTES
        .iter()
        .find(|r| r.method == *method && r.path == path)
}

/// Whether only people may use the route, never an integration's API key:
/// the account routes (`/api/auth/*` and every page, which would act on the
/// key's creator), API key management (a key must not mint keys that
/// outlive it) and user management (nor people who could).
fn for_people_only(rule: &RouteAccess) -> bool {
    rule.path.starts_with("/api/auth/")
        || is_page(rule.path)
        || matches!(rule.permission, ManageApiKeys | ManageUsers)
}

/// Routes open to a user who still holds a one-time password.
const OPEN_BEFORE_PASSWORD_CHANGE: &[&str] =
    &["/api/auth/me", "/api/auth/password", "/api/auth/sign-out"];

/// Routes open to a user whose tenant requires a second factor they have
/// not set up yet (API and pages).
const OPEN_FOR_SECOND_FACTOR_SET_UP: &[&str] = &[
    "/api/auth/me",
    "/api/auth/sign-out",
    "/api/auth/password",
    "/api/auth/totp",
    "/api/auth/totp/confirm",
    "/konto",
    "/konto/kennwort",
    "/konto/totp",
    "/konto/totp/bestaetigen",
    "/abmelden",
];

/// The name of the session cookie: `__Host-` when served over TLS.
pub fn session_cookie_name(app: &App) -> &'static str {
    if app.settings.public_url.scheme() == "https" {
        "__Host-emma_session"
    } else {
        "emma_session"
    }
}

/// The guard every route passes (installed with `route_layer`).
pub async fn guard(
    State(app): State<App>,
    matched: MatchedPath,
    params: RawPathParams,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let Some(rule) = rule(&method, matched.as_str()) else {
        tracing::error!(%method, path = %matched.as_str(), "route without an access rule");
        return ApiError::Forbidden.into_response();
    };
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let ip = client_ip(&request);
    let path_tenant = params
        .iter()
        .find(|(k, _)| k == "tenant_id")
        .and_then(|(_, v)| TenantId::parse(v).ok());
    let object = params
        .iter()
        .filter(|(k, _)| k != "tenant_id")
        .map(|(_, v)| v.clone())
        .next_back();

    let page = is_page(rule.path);
    let lang = crate::ui::Lang::from_headers(request.headers());
    let https = app.settings.public_url.scheme() == "https";
    let answer = |refusal: ApiError| -> Response {
        if page {
            page_refusal(refusal, lang, https)
        } else {
            refusal.into_response()
        }
    };

    // Public routes need nobody: they are not even looked up.
    let principal = if rule.permission == Public {
        None
    } else {
        match authenticate(&app, request.headers(), ip).await {
            Ok(principal) => principal,
            Err(e) => return answer(e),
        }
    };

    // A form post carries its CSRF token in the body: read it, then hand
    // the same bytes on.
    let (request, form_token) = match form_csrf_token(request).await {
        Ok(pair) => pair,
        Err(e) => return answer(e),
    };

    let decision = decide(
        &app,
        rule,
        principal.as_ref(),
        path_tenant.as_ref(),
        &request,
        form_token.as_deref(),
    );
    if let Err(refusal) = decision {
        if let Some(principal) = &principal {
            // Denials are audited (unauthenticated noise is not) in the
            // actor's own log: another tenant's log is not theirs to write.
            let attempted = match (&path_tenant, &object) {
                (Some(tenant), Some(object)) => Some(format!("{tenant}/{object}")),
                (Some(tenant), None) => Some(tenant.to_string()),
                (None, object) => object.clone(),
            };
            let mut entry = audit_entry(&app, rule, principal, None, attempted, ip);
            entry.outcome = Outcome::Denied;
            audit::record_or_log(&app, &entry).await;
        }
        return answer(refusal);
    }

    let entry = match (&principal, rule.action) {
        (Some(p), Some(_)) => Some(audit_entry(&app, rule, p, path_tenant, object, ip)),
        _ => None,
    };
    let mut request = request;
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    let response = next.run(request).await;
    if let Some(mut entry) = entry {
        entry.outcome = if response.status().is_success() || response.status().is_redirection() {
            Outcome::Success
        } else {
            Outcome::Failed
        };
        if let Some(object) = response
            .headers()
            .get(AUDIT_OBJECT)
            .and_then(|v| v.to_str().ok())
        {
            entry.object = Some(object.to_owned());
        }
        audit::record_or_log(&app, &entry).await;
    }
    let mut response = response;
    response.headers_mut().remove(AUDIT_OBJECT);
    response
}

/// A handler names the object it created (whose id was not in the path)
/// with this response header; the guard moves it into the audit entry.
pub const AUDIT_OBJECT: &str = "x-emma-audit-object";

fn decide(
    app: &App,
    rule: &RouteAccess,
    principal: Option<&Principal>,
    path_tenant: Option<&TenantId>,
    request: &Request,
    form_token: Option<&str>,
) -> Result<(), ApiError> {
    if principal.is_some_and(|p| p.credential == Credential::ApiKey) && for_people_only(rule) {
        return Err(ApiError::Forbidden);
    }
    if rule.permission == Public {
        return Ok(());
    }
    let principal = principal.ok_or(ApiError::Unauthenticated)?;
    let open = OPEN_BEFORE_PASSWORD_CHANGE.contains(&rule.path)
        || crate::ui::OPEN_BEFORE_PASSWORD_CHANGE.contains(&rule.path);
    if principal.must_change_password && !open {
        return Err(ApiError::PasswordChangeRequired);
    }
    if principal.must_set_up_second_factor && !OPEN_FOR_SECOND_FACTOR_SET_UP.contains(&rule.path) {
        return Err(ApiError::SecondFactorSetUpRequired);
    }
    if !principal.role.may(rule.permission) {
        return Err(ApiError::Forbidden);
    }
    // Pages name no tenant in the path: they act on the user's own (a
    // product admin's page picks one and checks it).
    if rule.permission.is_tenant_scoped() && !is_page(rule.path) {
        let own = path_tenant.is_some() && path_tenant == principal.tenant.as_ref();
        let any_tenant = principal.role == Role::ProductAdmin && rule.permission == ManageUsers;
        if !(own || any_tenant) {
            // Another tenant's data does not exist, as far as this user knows.
            return Err(ApiError::NotFound("tenant"));
        }
    }
    if principal.credential == Credential::Session && !is_safe(&rule.method) {
        check_csrf(app, request, form_token)?;
    }
    Ok(())
}

/// How a page answers a refusal: to the sign-in page when nobody is signed
/// in, to the account page while a one-time password is in use, otherwise
/// an HTML error page.
fn page_refusal(refusal: ApiError, lang: crate::ui::Lang, https: bool) -> Response {
    use axum::http::StatusCode;
    let see_other = |to: &'static str| {
        let mut response = StatusCode::SEE_OTHER.into_response();
        response
            .headers_mut()
            .insert(header::LOCATION, header::HeaderValue::from_static(to));
        response
    };
    match refusal {
        ApiError::Unauthenticated => see_other("/anmelden"),
        ApiError::PasswordChangeRequired | ApiError::SecondFactorSetUpRequired => {
            see_other("/konto")
        }
        other => {
            let status = StatusCode::from_u16(other.problem().status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = crate::ui::error_page(status, lang, "");
            crate::ui::security_headers(&mut response, https);
            response
        }
    }
}

/// The largest form body the guard reads for its CSRF token.
const MAX_FORM_BODY: usize = 64 * 1024;

/// The largest form body of the template editor (a newsletter's MJML,
/// URL-encoded); only its routes take that much.
const MAX_TEMPLATE_FORM_BODY: usize = 1024 * 1024;

/// For a form post, the `csrf_token` field of its body, with the request
/// rebuilt from the same bytes; other requests pass untouched.
async fn form_csrf_token(request: Request) -> Result<(Request, Option<String>), ApiError> {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form || is_safe(request.method()) {
        return Ok((request, None));
    }
    let limit = if request.uri().path().starts_with("/vorlagen") {
        MAX_TEMPLATE_FORM_BODY
    } else {
        MAX_FORM_BODY
    };
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit })?;
    let token = crate::ui::form_field(&bytes, crate::ui::CSRF_FIELD);
    Ok((
        Request::from_parts(parts, axum::body::Body::from(bytes)),
        token,
    ))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A cookie-authenticated change must come from our own origin and carry
/// the session's CSRF token in `X-CSRF-Token`.
fn check_csrf(app: &App, request: &Request, form_token: Option<&str>) -> Result<(), ApiError> {
    let headers = request.headers();
    let ours = app.settings.public_url.origin().ascii_serialization();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let same_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "same-origin");
    match origin {
        Some(origin) if origin == ours => {}
        None if same_site => {}
        _ => return Err(ApiError::CsrfRejected),
    }
    let token = session_token(app, headers).ok_or(ApiError::CsrfRejected)?;
    let presented = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .or(form_token)
        .unwrap_or_default();
    if sessions::csrf_matches(app, &token, presented) {
        Ok(())
    } else {
        Err(ApiError::CsrfRejected)
    }
}

/// The token of an `Authorization: Bearer` header, if there is one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The value of a cookie the request carries, if any.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The session token from the cookie, if there is one.
pub fn session_token(app: &App, headers: &HeaderMap) -> Option<SessionToken> {
    cookie(headers, session_cookie_name(app)).and_then(SessionToken::from_cookie)
}

/// The `Set-Cookie` value of the session cookie: HttpOnly, SameSite=Lax,
/// Secure over TLS (where its name has the `__Host-` prefix). An empty
/// value with `max_age` 0 clears it.
pub fn session_cookie(app: &App, value: &str, max_age: i64) -> header::HeaderValue {
    let secure = if app.settings.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        session_cookie_name(app)
    );
    header::HeaderValue::from_str(&cookie).expect("a cookie of safe characters")
}

/// Who is asking: an API key (a bearer token starting with `emma_`), a
/// bearer token of the identity provider, a session cookie, or nobody. A
/// bearer token that does not hold is a 401, never a fall-back to the cookie.
async fn authenticate(
    app: &App,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
) -> Result<Option<Principal>, ApiError> {
    if let Some(bearer) = bearer_token(headers).filter(|t| api_keys::is_api_key(t)) {
        return match api_keys::principal(app, bearer, ip).await {
            Ok(principal) => Ok(Some(principal)),
            Err(e) if e.is_refusal() => {
                tracing::info!(reason = %e, "API key refused");
                Err(ApiError::Unauthenticated)
            }
            Err(e) => Err(e.into()),
        };
    }
    if let Some(bearer) = bearer_token(headers) {
        return match sso::principal(app, bearer).await {
            Ok(principal) => Ok(Some(principal)),
            Err(SsoError::User(UserError::Store(e))) => Err(e.into()),
            Err(SsoError::Token(e)) if !e.is_refusal() => Err(ApiError::Unavailable(e.to_string())),
            Err(e) => {
                tracing::info!(reason = %e, "bearer token refused");
                Err(ApiError::Unauthenticated)
            }
        };
    }
    let Some(token) = session_token(app, headers) else {
        return Ok(None);
    };
    let resolved = sessions::resolve(app, &token).await.map_err(|e| match e {
        UserError::Store(s) => ApiError::from(s),
        other => ApiError::Internal(other.to_string()),
    })?;
    let Some((session, user, tenant)) = resolved else {
        return Ok(None);
    };
    // A tenant that requires a second factor lets a user without one do
    // nothing but set it up. Who signed in through the identity provider
    // passed its policy instead, and used no password of EMMA's.
    let by_password = session.method == SignInMethod::Password;
    let must_set_up_second_factor = by_password
        && user.second_factor.is_none()
        && tenant.is_some_and(|t| t.settings.require_second_factor);
    Ok(Some(Principal {
        user_id: user.id,
        role: user.role,
        tenant: user.tenant.clone(),
        email_hash: Some(app.pseudonyms.email(&user.email)),
        credential: Credential::Session,
        must_change_password: by_password && user.must_change_password,
        must_set_up_second_factor,
        api_key_id: None,
    }))
}

fn audit_entry(
    app: &App,
    rule: &RouteAccess,
    principal: &Principal,
    path_tenant: Option<TenantId>,
    object: Option<String>,
    ip: Option<IpAddr>,
) -> AuditEntry {
    let tenant = path_tenant.or_else(|| principal.tenant.clone());
    let action = rule.action.unwrap_or(rule.path);
    let mut entry = AuditEntry::new(app, tenant, Actor::of(principal), action);
    entry.ip = crate::services::audit::IpTrace::of_optional(app, ip);
    entry.object = object;
    entry
}

/// The client's address: from API Gateway's request context on Lambda, from
/// the connection locally. Forwarded-for headers are not trusted.
fn client_ip(request: &Request) -> Option<IpAddr> {
    ip_of(request.extensions())
}

fn ip_of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) =
        extensions.get::<lambda_http::request::RequestContext>()
    {
        return context
            .http
            .source_ip
            .as_deref()
            .and_then(|ip| ip.parse().ok());
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The client's address as a handler argument.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(ip_of(&parts.extensions)))
    }
}
