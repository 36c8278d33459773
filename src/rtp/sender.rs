//! The outbound RTP stream of one call: sequence number, timestamp and SSRC.
//!
//! One [`RtpSender`] lives as long as the call's media session. Every prompt, and the silence
//! between prompts, goes out on the same SSRC with a continuous sequence number, so the far
//! end's jitter buffer sees one stream (RFC 3550 §5.1). The timestamp follows the media clock:
//! +160 per 20 ms frame sent, and also +160 per frame the runtime had nothing to send
//! ([`RtpSender::skip_frames`]), so it tracks elapsed time across gaps. The marker bit is set on
//! the first frame of each prompt, the start of a talkspurt (RFC 3551 §4.1).
//!
//! Pure state: the caller draws the random SSRC and initial values (RFC 3550 §5.1 asks for
//! random initial sequence number and timestamp) and owns the pacing clock.

use super::packet::RtpHeader;

/// Samples per 20 ms frame at the 8 kHz G.711 clock.
pub const SAMPLES_PER_FRAME: u32 = 160;

/// Sequence/timestamp/SSRC state of one outbound RTP stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpSender {
    ssrc: u32,
    next_sequence: u16,
    next_timestamp: u32,
}

impl RtpSender {
    /// A stream with the given SSRC and first sequence number and timestamp, all of which the
    /// caller draws at random when the call's media starts.
    pub fn new(ssrc: u32, initial_sequence: u16, initial_timestamp: u32) -> Self {
        RtpSender {
            ssrc,
            next_sequence: initial_sequence,
            next_timestamp: initial_timestamp,
        }
    }

    /// The header for the next 20 ms frame, and advances the stream by one frame: sequence
    /// +1 and timestamp +160, both wrapping. `new_prompt` marks the first frame of a prompt
    /// (sets the marker bit); pass `false` for every later frame of the same prompt.
    pub fn next(&mut self, payload_type: u8, new_prompt: bool) -> RtpHeader {
        let header = RtpHeader {
            marker: new_prompt,
            payload_type,
            sequence: self.next_sequence,
            timestamp: self.next_timestamp,
            ssrc: self.ssrc,
        };
        self.next_sequence = self.next_sequence.wrapping_add(1);
        self.next_timestamp = self.next_timestamp.wrapping_add(SAMPLES_PER_FRAME);
        header
    }

    /// Advances the timestamp by `frames` 20 ms frames without sending: call it for every
    /// frame slot in which nothing was sent, so the next packet's timestamp reflects the
    /// elapsed time. The sequence number does not move (no packet was sent).
    pub fn skip_frames(&mut self, frames: u32) {
        self.next_timestamp = self
            .next_timestamp
            .wrapping_add(frames.wrapping_mul(SAMPLES_PER_FRAME));
    }

    /// The stream's SSRC, as advertised in RTCP and expected by the far end.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The sequence number the next packet will carry.
    pub fn next_sequence(&self) -> u16 {
        self.next_sequence
    }

    /// The timestamp the next packet will carry.
    pub fn next_timestamp(&self) -> u32 {
        self.next_timestamp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_advance_sequence_by_one_and_timestamp_by_160() {
        let mut s = RtpSender::new(0xCAFE, 100, 1000);
        let a = s.next(0, true);
        let b = s.next(0, false);
        assert_eq!((a.sequence, a.timestamp, a.ssrc), (100, 1000, 0xCAFE));
        assert_eq!((b.sequence, b.timestamp, b.ssrc), (101, 1160, 0xCAFE));
        assert_eq!(a.payload_type, 0);
    }

    #[test]
    fn sequence_wraps_from_65535_to_0() {
        let mut s = RtpSender::new(1, 65534, 0);
        let seqs: Vec<u16> = (0..4).map(|_| s.next(8, false).sequence).collect();
        assert_eq!(seqs, vec![65534, 65535, 0, 1]);
    }

    #[test]
    fn timestamp_wraps_past_u32_max() {
        let mut s = RtpSender::new(1, 0, u32::MAX - 100);
        assert_eq!(s.next(0, false).timestamp, u32::MAX - 100);
        assert_eq!(s.next(0, false).timestamp, 59); // MAX - 100 + 160 wraps to 59
        s.skip_frames(2);
        assert_eq!(s.next(0, false).timestamp, 59 + 160 * 3);
    }

    #[test]
    fn marker_only_on_the_first_frame_of_each_prompt_and_one_ssrc_throughout() {
        let mut s = RtpSender::new(0xABCD, 7, 7);
        let mut headers = Vec::new();
        for prompt_len in [3, 1, 4] {
            for i in 0..prompt_len {
                headers.push(s.next(0, i == 0));
            }
            s.skip_frames(5); // silence between prompts
        }
        let markers: Vec<bool> = headers.iter().map(|h| h.marker).collect();
        assert_eq!(
            markers,
            vec![true, false, false, true, true, false, false, false]
        );
        assert!(headers.iter().all(|h| h.ssrc == 0xABCD));
        for pair in headers.windows(2) {
            assert_eq!(pair[1].sequence, pair[0].sequence.wrapping_add(1));
        }
    }

    #[test]
    fn skipped_frames_advance_time_but_not_sequence() {
        let mut s = RtpSender::new(9, 10, 0);
        let first = s.next(0, true);
        s.skip_frames(50); // one second with nothing to send
        let after = s.next(0, true);
        assert_eq!(after.sequence, first.sequence + 1);
        assert_eq!(after.timestamp, first.timestamp + 160 * 51);
        assert_eq!(s.next_sequence(), 12);
        assert_eq!(s.next_timestamp(), 160 * 52);
        assert_eq!(s.ssrc(), 9);
    }
}
