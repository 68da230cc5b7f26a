//! Loads the real ONNX Runtime installed by scripts/setup.sh and runs a tiny model through it,
//! so later model work starts from a stack known to work.

use ort::session::Session;
use ort::value::TensorRef;

/// Minimal protobuf writer: enough to encode a small ONNX ModelProto by hand.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
}
fn field_varint(field: u32, v: u64, out: &mut Vec<u8>) {
    varint((field as u64) << 3, out);
    varint(v, out);
}
fn field_bytes(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    varint(((field as u64) << 3) | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// ValueInfoProto: a float tensor of shape [3].
fn value_info(name: &str) -> Vec<u8> {
    let mut dim = Vec::new();
    field_varint(1, 3, &mut dim); // Dimension.dim_value
    let mut shape = Vec::new();
    field_bytes(1, &dim, &mut shape); // TensorShapeProto.dim
    let mut tensor = Vec::new();
    field_varint(1, 1, &mut tensor); // elem_type FLOAT
    field_bytes(2, &shape, &mut tensor);
    let mut ty = Vec::new();
    field_bytes(1, &tensor, &mut ty); // TypeProto.tensor_type
    let mut vi = Vec::new();
    field_bytes(1, name.as_bytes(), &mut vi);
    field_bytes(2, &ty, &mut vi);
    vi
}

/// y = x * x, opset 13.
fn square_model() -> Vec<u8> {
    let mut node = Vec::new();
    field_bytes(1, b"x", &mut node);
    field_bytes(1, b"x", &mut node);
    field_bytes(2, b"y", &mut node);
    field_bytes(4, b"Mul", &mut node);
    let mut graph = Vec::new();
    field_bytes(1, &node, &mut graph);
    field_bytes(2, b"square", &mut graph);
    field_bytes(11, &value_info("x"), &mut graph);
    field_bytes(12, &value_info("y"), &mut graph);
    let mut opset = Vec::new();
    field_bytes(1, b"", &mut opset);
    field_varint(2, 13, &mut opset);
    let mut model = Vec::new();
    field_varint(1, 8, &mut model); // ir_version
    field_bytes(7, &graph, &mut model);
    field_bytes(8, &opset, &mut model);
    model
}

#[test]
fn onnxruntime_loads_and_runs_a_model() {
    let env = claimscan_native::onnxruntime().expect("ONNX Runtime must load (make setup)");
    let info = claimscan_native::onnxruntime_info().unwrap();
    assert!(!info.is_empty());

    let mut session = Session::builder(env)
        .unwrap()
        .with_intra_threads(1)
        .unwrap()
        .commit_from_memory(&square_model())
        .expect("the hand-built model must load");
    let input = [1.5f32, -2.0, 3.0];
    let outputs = session
        .run(ort::inputs!["x" => TensorRef::from_array_view(([3usize], &input[..])).unwrap()])
        .unwrap();
    let (shape, values) = outputs["y"].try_extract_tensor::<f32>().unwrap();
    assert_eq!(shape.to_vec(), vec![3i64]);
    assert_eq!(values, &[2.25, 4.0, 9.0]);
}
