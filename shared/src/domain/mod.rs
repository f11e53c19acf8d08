//! Domain types and rules of EMMA. No I/O here: values that parse on
//! construction, so that holding one means it is valid.

mod contact;
mod email;
mod ids;
mod tenant;

pub use contact::{Contact, ContactDraft, PersonName};
pub use email::{EmailAddress, EmailAddressError};
pub use ids::{ContactId, IdError, TenantId};
pub use tenant::{Tenant, TenantName, TenantNameError, TenantStatus};
