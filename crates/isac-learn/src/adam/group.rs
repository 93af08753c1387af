//! The operands of one grouped Adam operation across Burn's backend-extension boundary. Burn
//! 0.22's extensions take no `Vec` of tensors, so a group is an enum with one variant per size,
//! 1 to [`MAX_GROUP`] parameters (its derive carries each variant through dispatch and fusion).

// The variants differ in size by up to seven parameters' tensors (a few kilobytes, one value a
// step), in the enums below and in those their derive generates (which no attribute reaches):
// boxing the fields would take them out of the derive's reach.
#![allow(clippy::large_enum_variant)]

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, ExtensionType};

/// The most parameters one operation updates; a module with more takes several.
pub(crate) const MAX_GROUP: usize = 8;

/// One parameter's operands: the parameter, its gradient and both moments (all of one shape).
#[derive(ExtensionType)]
#[extension_type(fusion: cfg(feature = "fusion"))]
pub(crate) struct Operands<B: Backend> {
    pub(crate) param: FloatTensor<B>,
    pub(crate) grad: FloatTensor<B>,
    pub(crate) m1: FloatTensor<B>,
    pub(crate) m2: FloatTensor<B>,
}

/// One parameter after the step: the parameter and both moments.
#[derive(ExtensionType)]
#[extension_type(fusion: cfg(feature = "fusion"))]
pub(crate) struct Moved<B: Backend> {
    pub(crate) param: FloatTensor<B>,
    pub(crate) m1: FloatTensor<B>,
    pub(crate) m2: FloatTensor<B>,
}

/// `Group` (of [`Operands`]) and `MovedGroup` (of [`Moved`]), one variant per size, with their
/// conversions from and to a `Vec` and, under fusion, the output metadata of an input group.
macro_rules! groups {
    ($($variant:ident { $($slot:ident),+ })+) => {
        /// The operands of 1 to [`MAX_GROUP`] parameters.
        #[derive(ExtensionType)]
        #[extension_type(fusion: cfg(feature = "fusion"))]
        pub(crate) enum Group<B: Backend> {
            $($variant { $(#[extension_type] $slot: Operands<B>),+ },)+
        }

        /// 1 to [`MAX_GROUP`] parameters after the step, in their group's order.
        #[derive(ExtensionType)]
        #[extension_type(fusion: cfg(feature = "fusion"))]
        pub(crate) enum MovedGroup<B: Backend> {
            $($variant { $(#[extension_type] $slot: Moved<B>),+ },)+
        }

        groups!(@vec Group, Operands, $($variant { $($slot),+ })+);
        groups!(@vec MovedGroup, Moved, $($variant { $($slot),+ })+);

        /// The outputs' metadata: each parameter's moved tensors have its operands' specs.
        #[cfg(feature = "fusion")]
        pub(crate) fn moved_metadata(group: &GroupMetadata) -> MovedGroupMetadata {
            match group {
                $(GroupMetadata::$variant { $($slot),+ } => MovedGroupMetadata::$variant {
                    $($slot: MovedMetadata {
                        param: $slot.param.clone(),
                        m1: $slot.m1.clone(),
                        m2: $slot.m2.clone(),
                    }),+
                },)+
            }
        }
    };
    (@vec $group:ident, $item:ident, $($variant:ident { $($slot:ident),+ })+) => {
        impl<B: Backend> $group<B> {
            /// The group of `items`, 1 to [`MAX_GROUP`] of them.
            ///
            /// # Panics
            /// With no item or more than [`MAX_GROUP`] (callers chunk by [`MAX_GROUP`]).
            pub(crate) fn new(items: Vec<$item<B>>) -> Self {
                let size = items.len();
                let mut items = items.into_iter();
                let mut variant_size = 0;
                $(
                    variant_size += 1;
                    if size == variant_size {
                        return Self::$variant {
                            $($slot: items.next().expect("one item per slot")),+
                        };
                    }
                )+
                panic!("a group holds 1 to {MAX_GROUP} parameters, not {size}")
            }

            /// The items, in order.
            pub(crate) fn into_vec(self) -> Vec<$item<B>> {
                match self {
                    $(Self::$variant { $($slot),+ } => vec![$($slot),+],)+
                }
            }
        }
    };
}

groups! {
    One { a }
    Two { a, b }
    Three { a, b, c }
    Four { a, b, c, d }
    Five { a, b, c, d, e }
    Six { a, b, c, d, e, f }
    Seven { a, b, c, d, e, f, g }
    Eight { a, b, c, d, e, f, g, h }
}
