// The setup of jest's containerd-2.x project: the pod suites it runs start the pinned containerd 2
// (tools/versions.env, built by scripts/build-tools.sh) where they ask for a test containerd
// (see startTestContainerd).
process.env['SHOPFLOOR_TEST_CONTAINERD'] = 'pinned';
