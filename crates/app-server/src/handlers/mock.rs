//! `mock/experimentalMethod`: echoes, for clients probing experimental gating.

use tern_protocol::v2::{MockExperimentalMethodParams, MockExperimentalMethodResponse};

pub(crate) fn experimental_method(
    params: MockExperimentalMethodParams,
) -> MockExperimentalMethodResponse {
    MockExperimentalMethodResponse {
        echoed: params.value,
    }
}
