module label

// 1.24 is the first Go with //go:wasmexport and c-shared builds for wasip1.
go 1.24

require github.com/sluice-rs/sluice/plugins/sdk-go v0.0.0

// The sluice package for Go is not published yet: use a copy of it (the
// repository's own for its example; `sluice plugin new` vendors one).
replace github.com/sluice-rs/sluice/plugins/sdk-go => ../../../plugins/sdk-go
