module github.com/lockstress/lockstress

go 1.25.0

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0
	github.com/gofrs/flock v0.13.1
	github.com/leanovate/gopter v0.2.11
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.47.0
	golang.org/x/term v0.45.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
