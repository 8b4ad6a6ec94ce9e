module github.com/hotgrid/hotgrid

go 1.26.8
