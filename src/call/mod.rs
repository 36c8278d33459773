//! One call's session: glues the SIP dialog, the media player and the IVR, and emits the call
//! record at hang-up.
