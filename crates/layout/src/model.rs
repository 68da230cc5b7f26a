//! ONNX model reader (placeholder).
use crate::{labels::Tags, LayoutError};
use claimscan_doc::Document;
use std::path::Path;

pub struct Manifest;

pub struct ModelReader;

impl ModelReader {
    pub fn load(_dir: &Path) -> Result<Self, LayoutError> {
        Err(LayoutError::LoadFailed("not yet".into()))
    }
    pub fn name(&self) -> String {
        String::new()
    }
    pub fn label(&self, _doc: &Document) -> Result<Tags, LayoutError> {
        Err(LayoutError::LoadFailed("not yet".into()))
    }
}
