//! SIP call control over the SIP library (rsipstack, pinned): the facade that turns SIP
//! transactions and dialogs into carecall's own call events, SDP offer/answer, trunk policy.
//! No module outside `sip/` names the library's types.
pub mod sdp;
