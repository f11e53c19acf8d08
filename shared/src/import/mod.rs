//! Importing contacts from CSV files as German institutes export them from
//! their customer systems (Excel): reading the file in constant memory
//! whatever its encoding and separator, and turning its rows into contacts.

pub mod mapping;
pub mod run;
pub mod source;
