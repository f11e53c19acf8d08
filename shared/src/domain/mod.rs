//! Domain types and rules of EMMA. No I/O here: values that parse on
//! construction, so that holding one means it is valid.

mod attribute;
mod contact;
mod email;
mod ids;
mod principal;
mod role;
mod tenant;
mod user;

pub use attribute::{
    AttributeDefinition, AttributeKind, AttributeName, AttributeValue, AttributeValueError,
    AttributeValues, MAX_ATTRIBUTES, Number,
};
pub use contact::{
    Contact, ContactDraft, ContactStatus, Language, PersonName, Salutation, fold, short_text,
};
pub use email::{EmailAddress, EmailAddressError};
pub use ids::{
    AssetId, CampaignId, ContactId, ExportId, IdError, ImportId, ListId, SegmentId, SignupFormId,
    TemplateId, TenantId, UserId,
};
pub use principal::{Credential, Principal};
pub use role::{Permission, Role};
pub use tenant::{Tenant, TenantName, TenantNameError, TenantSettings, TenantStatus, TrackingMode};
pub use user::{SecondFactor, User, UserStatus};
