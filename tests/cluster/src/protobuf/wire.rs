//! The protobuf wire format as Kubernetes' messages use it: varints, fixed 64- and 32-bit
//! values and length-delimited fields. Groups (wire types 3 and 4) never occur in Kubernetes'
//! `generated.proto` files and are refused.

/// One field's value as it sits on the wire, before the schema says what it means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum WireValue<'a> {
    /// Wire type 0: integers, booleans and enums.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: strings, bytes, nested messages, map entries and packed repeated scalars.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

impl WireValue<'_> {
    /// Whether this is the zero value (0, false, `""`, an empty message), which Go's encoder
    /// writes for every non-pointer field and which carries no data.
    pub(crate) fn is_zero(&self) -> bool {
        match self {
            Self::Varint(value) | Self::Fixed64(value) => *value == 0,
            Self::Fixed32(value) => *value == 0,
            Self::Bytes(bytes) => bytes.is_empty(),
        }
    }

    /// The wire type's name, for error messages.
    pub(crate) fn wire_name(&self) -> &'static str {
        match self {
            Self::Varint(_) => "varint",
            Self::Fixed64(_) => "fixed64",
            Self::Bytes(_) => "length-delimited",
            Self::Fixed32(_) => "fixed32",
        }
    }
}

/// A message whose framing is broken (what a truncated or non-protobuf body produces).
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum WireError {
    /// The bytes end inside a field.
    #[error("the message ends inside a field at byte {offset}")]
    Truncated {
        /// Offset of the field's start within its message.
        offset: usize,
    },
    /// A varint runs past 10 bytes.
    #[error("the varint at byte {offset} is longer than 10 bytes")]
    VarintTooLong {
        /// Offset of the varint within its message.
        offset: usize,
    },
    /// A wire type protobuf does not define, or a group.
    #[error("wire type {wire_type} at byte {offset} is not used by Kubernetes messages")]
    UnsupportedWireType {
        /// The wire type found.
        wire_type: u64,
        /// Offset of the field key within its message.
        offset: usize,
    },
    /// Field number 0 (or one beyond protobuf's 29-bit range).
    #[error("field number {number} at byte {offset} is not a valid field number")]
    InvalidFieldNumber {
        /// The number found.
        number: u64,
        /// Offset of the field key within its message.
        offset: usize,
    },
}

/// Reads a varint at `offset`; returns it and the offset after it.
pub(crate) fn read_varint(bytes: &[u8], offset: usize) -> Result<(u64, usize), WireError> {
    let mut value = 0u64;
    for (index, byte) in bytes.iter().skip(offset).take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Ok((value, offset + index + 1));
        }
    }
    if bytes.len() - offset.min(bytes.len()) >= 10 {
        Err(WireError::VarintTooLong { offset })
    } else {
        Err(WireError::Truncated { offset })
    }
}

/// The fields of one message, in wire order.
pub(crate) fn fields(bytes: &[u8]) -> Fields<'_> {
    Fields { bytes, offset: 0 }
}

/// Iterator over `(field number, value)`; stops after the first error.
pub(crate) struct Fields<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Fields<'a> {
    fn read_field(&mut self) -> Result<(u32, WireValue<'a>), WireError> {
        let start = self.offset;
        let (key, after_key) = read_varint(self.bytes, start)?;
        let number = key >> 3;
        let number = u32::try_from(number)
            .ok()
            .filter(|number| (1..=0x1fff_ffff).contains(number))
            .ok_or(WireError::InvalidFieldNumber {
                number,
                offset: start,
            })?;
        let truncated = WireError::Truncated { offset: start };
        let (value, end) = match key & 0x7 {
            0 => {
                let (value, end) = read_varint(self.bytes, after_key)?;
                (WireValue::Varint(value), end)
            }
            1 => {
                let end = after_key + 8;
                let raw: [u8; 8] = self
                    .bytes
                    .get(after_key..end)
                    .and_then(|raw| raw.try_into().ok())
                    .ok_or(truncated)?;
                (WireValue::Fixed64(u64::from_le_bytes(raw)), end)
            }
            2 => {
                let (length, data_start) = read_varint(self.bytes, after_key)?;
                let end = usize::try_from(length)
                    .ok()
                    .and_then(|length| data_start.checked_add(length))
                    .filter(|end| *end <= self.bytes.len())
                    .ok_or(truncated)?;
                (WireValue::Bytes(&self.bytes[data_start..end]), end)
            }
            5 => {
                let end = after_key + 4;
                let raw: [u8; 4] = self
                    .bytes
                    .get(after_key..end)
                    .and_then(|raw| raw.try_into().ok())
                    .ok_or(truncated)?;
                (WireValue::Fixed32(u32::from_le_bytes(raw)), end)
            }
            wire_type => {
                return Err(WireError::UnsupportedWireType {
                    wire_type,
                    offset: start,
                });
            }
        };
        self.offset = end;
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, WireValue<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.offset >= self.bytes.len() {
            return None;
        }
        let field = self.read_field();
        if field.is_err() {
            // Nothing after broken framing can be trusted.
            self.offset = self.bytes.len();
        }
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<Result<(u32, WireValue<'_>), WireError>> {
        fields(bytes).collect()
    }

    #[test]
    fn multi_byte_varints_and_negative_int32_decode() {
        assert_eq!(read_varint(&[0x90, 0x3f], 0), Ok((8080, 2)));
        let minus_one = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(read_varint(&minus_one, 0), Ok((u64::MAX, 10)));
    }

    #[test]
    fn every_wire_type_kubernetes_uses_is_read() {
        let bytes = [
            0x08, 0x03, // 1: varint 3
            0x11, 1, 0, 0, 0, 0, 0, 0, 0, // 2: fixed64 1
            0x1a, 0x02, b'o', b'k', // 3: "ok"
            0x25, 2, 0, 0, 0, // 4: fixed32 2
        ];
        assert_eq!(
            all(&bytes),
            vec![
                Ok((1, WireValue::Varint(3))),
                Ok((2, WireValue::Fixed64(1))),
                Ok((3, WireValue::Bytes(b"ok"))),
                Ok((4, WireValue::Fixed32(2))),
            ]
        );
    }

    #[test]
    fn a_length_past_the_end_is_truncation_and_stops_the_iteration() {
        assert_eq!(
            all(&[0x08, 0x01, 0x12, 0x05, b'a']),
            vec![
                Ok((1, WireValue::Varint(1))),
                Err(WireError::Truncated { offset: 2 })
            ]
        );
    }

    #[test]
    fn groups_and_field_number_zero_are_refused() {
        assert_eq!(
            all(&[0x0b]),
            vec![Err(WireError::UnsupportedWireType {
                wire_type: 3,
                offset: 0
            })]
        );
        assert_eq!(
            all(&[0x00, 0x00]),
            vec![Err(WireError::InvalidFieldNumber {
                number: 0,
                offset: 0
            })]
        );
    }

    #[test]
    fn zero_values_carry_no_data() {
        assert!(WireValue::Varint(0).is_zero());
        assert!(WireValue::Bytes(b"").is_zero());
        assert!(!WireValue::Bytes(b"x").is_zero());
        assert!(!WireValue::Fixed32(7).is_zero());
    }
}
