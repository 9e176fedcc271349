// Keeps remora_test_common non-empty before any helper exists.
