module quorum.lab/pause

go 1.22
