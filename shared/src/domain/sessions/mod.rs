//! Sessions: sessions and their refresh families, access tokens and their keys, trusted
//! devices, and login with Google.

pub mod access_token;
pub mod devices;
pub mod google;
pub mod session;
pub mod signing_keys;
