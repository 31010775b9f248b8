"""How much an operator reads (issue 25): the lines that rolling_restart (in place and with maintenance
tasks) and renew_certs (forced) print on 3 nodes with the default callback and no ansible.cfg. Each
count is held to the ceiling in playbook_helpers.OUTPUT_LINES; the run's summary prints the figures
(docs/output.md). restore_quorum's count is taken in its own test, on the lab it rebuilds."""
import os

from tests.integration.playbook_helpers import FILES, count_output_lines, describe, play


def test_output_lines_of_a_rolling_restart_and_a_forced_renewal(lab, tmp_path):
    in_place = play('rolling_restart', lab)
    assert in_place.returncode == 0, describe(in_place)
    count_output_lines('rolling_restart', in_place)

    maintenance_log = tmp_path / 'maintenance.log'
    maintained = play('rolling_restart', lab, extra_vars={
        'rolling_restart_maintenance_tasks': os.path.join(FILES, 'check_pods_down.yml'),
        'maintenance_log': str(maintenance_log)})
    assert maintained.returncode == 0, describe(maintained)
    assert maintenance_log.read_text().split() == [node.name for node in lab.nodes]
    count_output_lines('rolling_restart with maintenance tasks', maintained)

    renewed = play('renew_certs', lab, extra_vars={'renew_certs_force': True})
    assert renewed.returncode == 0, describe(renewed)
    count_output_lines('renew_certs -e renew_certs_force=true', renewed)
    lab.wait_healthy(timeout=120)
