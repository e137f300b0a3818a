# JupyterLab for one assignment of *Training Deep Neural Networks from Scratch*.
#
#     jupyter lab --config=jupyter_lab_config.py
#
# opens this folder with nbgrader's Validate button and without the instructor's tools
# (Formgrader, Create Assignment, the course and assignment lists): those need a course
# set up by an instructor and only show errors here. Settings for this folder only.
import os

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (defined by Jupyter when it reads this file)
here = os.path.dirname(os.path.abspath(__file__))

# .jupyter/labconfig/page_config.json turns off the instructor's panels in the browser;
# .jupyter/custom/custom.css adds a line to Validate's "Success!" (only visible tests ran)
os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
    path for path in (os.path.join(here, ".jupyter"), os.environ.get("JUPYTER_CONFIG_PATH")) if path
)
c.LabApp.custom_css = True
c.ServerApp.tornado_settings = {"static_custom_path": [os.path.join(here, ".jupyter", "custom")]}
# nbgrader's instructor and exchange services: off (Validate stays on)
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.assignment_list": False,
}
c.ServerApp.root_dir = here
# JupyterLab refuses to run as root (containers, CI) unless told it may
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.ServerApp.allow_root = True
