//! Newsletter content: templates (MJML or HTML with a text part and
//! personalisation) compiled once and rendered per recipient.

pub mod checks;
pub mod context;
pub mod image;
pub mod links;
pub mod message;
pub mod template;
pub mod text;
