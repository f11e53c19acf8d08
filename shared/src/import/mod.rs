//! Importing contacts from CSV files as German institutes export them from
//! their customer systems (Excel): reading the file in constant memory
//! whatever its encoding and separator.

pub mod source;
