module github.com/sluice-rs/sluice/plugins/sdk-go

// 1.24 is the first Go with //go:wasmexport and c-shared builds for wasip1.
go 1.24
