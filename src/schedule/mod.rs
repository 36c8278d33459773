//! Automatic-call planning: slots, pacing, priorities and retries. Returns decisions only.
